package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
)

// cliHTTPClient returns the HTTP client the CLI's requests go through. Like
// the AWS CLI and SDKs it trusts the system's CAs and, when AWS_CA_BUNDLE
// names a PEM file, the CAs in that file too, so a server with a
// certificate of its own CA (`cairn server --tls-cert`) is reached over
// HTTPS with CAIRN_ENDPOINT=https://... and AWS_CA_BUNDLE=ca.pem.
func cliHTTPClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if path := os.Getenv("AWS_CA_BUNDLE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("AWS_CA_BUNDLE: %s holds no PEM certificate", path)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}
