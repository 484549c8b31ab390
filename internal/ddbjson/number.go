package ddbjson

// DynamoDB's number limits.
const (
	// MaxDigits is the most significant digits a DynamoDB number may have.
	MaxDigits = 38
	// MaxExponent and MinExponent bound the decimal exponent of a non-zero
	// number written as d.ddd×10^e: 1E-130 ≤ |x| < 1E+126.
	MaxExponent = 125
	MinExponent = -130
)

// AppendNumber appends the canonical form of the DynamoDB number s (the
// content of an "N" string) to dst: plain decimal notation, no exponent, no
// '+', no leading zeros except the one before a fraction's point, no trailing
// fraction zeros, no point without a fraction, and "0" for every zero. It is
// the form DynamoDB itself returns (BigDecimal.stripTrailingZeros
// .toPlainString). It fails for anything DynamoDB would refuse: not a
// number, more than 38 significant digits, or a magnitude outside
// 1E-130..9.99…E+125.
//
// Accepted input: an optional sign, digits with an optional '.' (digits are
// required on at least one side of it), and an optional exponent
// ('e' or 'E', optional sign, digits).
func AppendNumber(dst, s []byte) ([]byte, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(s) && s[i] == '.' {
		i++
		fracStart = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracEnd = i
	}
	nInt, nFrac := intEnd-intStart, fracEnd-fracStart
	if nInt+nFrac == 0 {
		return dst, errorf("number %q is not a number", s)
	}
	exp, expOverflow := 0, false
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			expNeg = s[i] == '-'
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return dst, errorf("number %q is not a number", s)
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
			if exp < 1e9 {
				exp = exp*10 + int(s[i]-'0')
			} else {
				expOverflow = true
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return dst, errorf("number %q is not a number", s)
	}
	// The digit string D is s[intStart:intEnd] followed by s[fracStart:fracEnd].
	digit := func(k int) byte {
		if k < nInt {
			return s[intStart+k]
		}
		return s[fracStart+k-nInt]
	}
	n := nInt + nFrac
	first := 0
	for first < n && digit(first) == '0' {
		first++
	}
	if first == n {
		return append(dst, '0'), nil // every zero is "0"
	}
	last := n - 1
	for digit(last) == '0' {
		last--
	}
	sig := last - first + 1
	if sig > MaxDigits {
		return dst, errorf("number %q has more than %d significant digits", s, MaxDigits)
	}
	// adj is the exponent of the first significant digit.
	adj := nInt - first - 1 + exp
	if expOverflow || adj > MaxExponent {
		return dst, errorf("number %q is larger than DynamoDB's maximum magnitude (E+%d)", s, MaxExponent)
	}
	if adj < MinExponent {
		return dst, errorf("number %q is smaller than DynamoDB's minimum magnitude (E%d)", s, MinExponent)
	}
	if neg {
		dst = append(dst, '-')
	}
	switch point := adj + 1; { // digits before the decimal point
	case point >= sig: // integer
		for k := first; k <= last; k++ {
			dst = append(dst, digit(k))
		}
		for k := sig; k < point; k++ {
			dst = append(dst, '0')
		}
	case point > 0:
		for k := first; k <= last; k++ {
			if k-first == point {
				dst = append(dst, '.')
			}
			dst = append(dst, digit(k))
		}
	default:
		dst = append(dst, '0', '.')
		for k := point; k < 0; k++ {
			dst = append(dst, '0')
		}
		for k := first; k <= last; k++ {
			dst = append(dst, digit(k))
		}
	}
	return dst, nil
}
