// Package ddbjson is cairn's one place that reads and writes DynamoDB JSON:
// the {"name":{"S":"…"}} item encoding of DynamoDB's JSON 1.0 wire protocol
// and of its export-to-S3 files. It works on raw bytes with a hand-written
// scanner, never changes a value, and does not allocate per item in steady
// state, so that backups can move raw Scan items straight into export files
// and restores can paste them straight into BatchWriteItem bodies.
//
// # What it offers
//
//   - ValidateItem checks an item against DynamoDB's rules; AppendCanonical
//     writes its canonical form; AppendNumber canonicalises one number.
//   - Checksum is an order-independent content checksum of a set of items;
//     ChecksumAlgorithmOf tells the algorithm of a stored one;
//     Checksum.AddOutOfSpec covers the items lax servers hold that
//     DynamoDB would refuse.
//   - AppendKey names an item by its key attributes, for messages.
//   - AppendExportLine and ExportLineItem write and read lines of the
//     DYNAMODB_JSON export format ({"Item":{…}} and a newline).
//   - ParseScanResponse, AppendScanRequest, AppendBatchWriteRequest and
//     ParseBatchWriteResponse are the wire shapes of Scan and BatchWriteItem.
//   - FromAttributeValues and ToAttributeValues convert to and from the AWS
//     SDK's types (for tests and keys; they allocate).
//   - HostileCorpus, HostileCorpusFor and RandomItems generate test data for
//     every package's tests.
//
// Errors for bad input are *Error values (attribute path, byte offset,
// reason) that wrap ErrInvalid.
//
// # Canonical form
//
// Two items have the same canonical form exactly when DynamoDB holds them as
// the same value. The canonical form of an item is DynamoDB JSON with:
//
//   - no whitespace;
//   - the members of every object (the item's attributes and the members of
//     every M) sorted by the bytes of their names as written in the
//     canonical form (the escaped string body, without quotes), compared as
//     unsigned bytes;
//   - every string (names, S, SS members) escaped minimally: '"' and '\' as
//     \" and \\, U+0008, U+000C, U+000A, U+000D, U+0009 as \b \f \n \r \t,
//     other characters below U+0020 as \u00xx with lower-case hex, and
//     everything else (including U+007F, U+2028, U+2029 and astral
//     characters) as its UTF-8 bytes;
//   - every number (N and NS members) in AppendNumber's form: plain decimal
//     without exponent or '+', without leading zeros (one zero before a
//     point), without trailing fraction zeros, and "0" for all zeros, so
//     "1.50", "1.5" and "15E-1" are all "1.5", "1E2" is "100", and "-0" is
//     "0" — the form DynamoDB itself returns;
//   - binaries (B and BS members) in standard padded base64, which is the
//     only form accepted, so it is canonical already;
//   - members of SS, NS and BS sorted by the bytes of their canonical
//     encoding (the text between the quotes);
//   - L elements in their order; NULL as true; BOOL as true or false; each
//     value object {"T":v} with its one type descriptor.
//
// The canonical form of a valid item is a valid item, and canonicalising it
// again changes nothing.
//
// # Checksum algorithms (stored in recovery points: do not change)
//
// A content checksum is a sum over items of one digest per item, so item
// order does not change it and sums of parts (scan segments) add up to the
// sum of the whole (Merge). Two items have the same digest exactly when they
// have the same canonical form (up to hash collisions): attribute order, set
// order, number spelling and string escapes do not change it; any change of
// a value does. The count of items is kept beside the sum (Count) and is not
// part of it. The sum detects corruption and loss, not forgery: someone who
// may choose many items freely can find a set with a given sum.
//
// ChecksumV2 "cairn-ddbjson-xxh3-sum-v2" (the algorithm of new recovery points;
// Sum is "xxh3-128:" and 32 lower-case hex digits) needs no
// canonical form, which costs sorting and copying every object: each value
// has an encoding, a code byte and then
//
//   - S: the decoded string's UTF-8 bytes (code 'S');
//   - N: the number in AppendNumber's form ('N');
//   - B: the base64 text, which is canonical already ('B');
//   - BOOL: 't' or 'f' ('O'); NULL: nothing ('Z');
//   - SS, NS, BS: the set's canonical form, as in the canonical item form
//     (its members sorted, '[' to ']'; codes 's', 'n', 'b');
//   - M: the map encoding of its members ('M');
//   - L: for each element in order, the length of its encoding (4 bytes,
//     little-endian) and the encoding ('L').
//
// The map encoding of an object (an M, or the item itself) is the number of
// its members (8 bytes) followed by the sum modulo 2^128 of
// XXH3-128(name length (4 bytes), decoded name, value encoding) over its
// members (16 bytes: low then high half), all little-endian. An item's digest
// is XXH3-128 with seed 0x636169726e2d7632 of its map encoding, and Sum is
// the sum modulo 2^128 of the item digests, big-endian. The digests are
// computed in one pass over the item, which is validated as ValidateItem
// does.
//
// # Out-of-spec items (ChecksumV2 only)
//
// Lax DynamoDB-compatible servers hold items DynamoDB would refuse: moto
// keeps number sets whose members differ only in spelling ("1" and "1.0"),
// duplicate SS and BS members, numbers of more than 38 digits, BOOL values
// that are not booleans; dynalite keeps M and L nested hundreds of levels
// deep. A backup keeps such items byte for byte, so the checksum must cover
// them: Checksum.AddOutOfSpec adds an item Add refused, with a digest
// defined by the v2 encoding above under lax rules:
//
//   - names may be empty and may repeat within an object (every member is
//     hashed and added, and counted);
//   - M and L may nest up to MaxLaxDepth levels;
//   - sets may be empty and may hold duplicates: the members are
//     canonicalised (S members escaped as in the canonical form, N members
//     in the lax number form, B members as their text, escaped likewise),
//     sorted by the bytes between their quotes, and all kept, so "1" and
//     "1.0" in an NS are the set ["1","1"];
//   - N and NS members are in the lax number form (appendLaxNumber): the
//     AppendNumber form where DynamoDB takes the number; beyond 38
//     significant digits but within DynamoDB's range, the same plain
//     decimal form without that limit; out of range, the significant
//     digits in scientific notation ("-1.25E-199"); text that is no number
//     (or whose exponent has more than nine digits), as is;
//   - B and BS members are not checked for base64;
//   - a BOOL value other than true or false is encoded as code 'O' and the
//     value's JSON text as written; a NULL value other than true as code
//     'Z' and its JSON text.
//
// Every limit of DynamoDB's is lifted and nothing else changes, so the lax
// digest of a valid item is its v2 digest (tests hold the two to that) and
// existing recovery points keep validating. An item that is one JSON
// object but no DynamoDB item even under these rules (an unknown type
// descriptor, a value object with no or two descriptors, a value of the
// wrong JSON type, a string that does not decode) has the raw digest:
// XXH3-128 with seed 0x636169726e2d7277 of its bytes as given. Anything
// that is not one JSON object is refused.
//
// ChecksumV1 "cairn-ddbjson-sha256-sum-v1" (recovery points made before v2;
// Sum is 64 lower-case hex digits): for every item, take SHA-256 of its
// canonical form, read the 32-byte digest as a big-endian unsigned integer,
// and add these integers modulo 2^256. The empty set gives 64 zeros.
//
// # Limits assumed
//
// DynamoDB's numbers have at most 38 significant digits and a magnitude from
// 1E-130 to below 1E+126; M and L nest at most 32 levels (MaxDepth, counting
// the M or L that is a top-level attribute's value as level 1); top-level
// attribute names are not empty. The 400 KB item size is not checked here.
// Out-of-spec items may nest up to MaxLaxDepth levels; the JSON scanner
// refuses deeper input.
package ddbjson
