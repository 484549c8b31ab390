package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// credentialsFile is where the server keeps its generated key pair, mode
// 0600, in its data dir; the CLI reads it from there.
const credentialsFile = "credentials.json"

type keyPair struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// serverKeys returns the key pair the server accepts: CAIRN_ACCESS_KEY_ID /
// CAIRN_SECRET_ACCESS_KEY if set, else the pair stored in dataDir, generated
// at first start.
func serverKeys(dataDir string) (keyPair, error) {
	if k, ok, err := envKeys(); ok || err != nil {
		return k, err
	}
	path := filepath.Join(dataDir, credentialsFile)
	k, err := readKeys(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return keyPair{}, err
	}
	k = keyPair{AccessKeyID: "CAIRN" + randomString(15, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		SecretAccessKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
	b, _ := json.MarshalIndent(k, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return keyPair{}, fmt.Errorf("write key pair: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return keyPair{}, fmt.Errorf("write key pair: %w", err)
	}
	return k, nil
}

// clientKeys returns the pair the CLI signs with: the environment, else the
// server's file in the data dir.
func clientKeys(dataDir string) (keyPair, error) {
	if k, ok, err := envKeys(); ok || err != nil {
		return k, err
	}
	k, err := readKeys(filepath.Join(dataDir, credentialsFile))
	if errors.Is(err, os.ErrNotExist) {
		return keyPair{}, fmt.Errorf("no credentials: set CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY, or CAIRN_DATA_DIR to the server's data dir (looked in %s)", dataDir)
	}
	return k, err
}

func envKeys() (keyPair, bool, error) {
	id, secret := os.Getenv("CAIRN_ACCESS_KEY_ID"), os.Getenv("CAIRN_SECRET_ACCESS_KEY")
	switch {
	case id == "" && secret == "":
		return keyPair{}, false, nil
	case id == "" || secret == "":
		return keyPair{}, true, errors.New("set both CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY, or neither")
	}
	return keyPair{AccessKeyID: id, SecretAccessKey: secret}, true, nil
}

func readKeys(path string) (keyPair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return keyPair{}, err
	}
	var k keyPair
	if err := json.Unmarshal(b, &k); err != nil || k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return keyPair{}, fmt.Errorf("%s is not a valid key pair file; delete it to have the server generate a new one", path)
	}
	return k, nil
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// defaultDataDir is CAIRN_DATA_DIR, else ~/.local/share/cairn.
func defaultDataDir() string {
	if d := os.Getenv("CAIRN_DATA_DIR"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "cairn")
	}
	return "cairn-data"
}
