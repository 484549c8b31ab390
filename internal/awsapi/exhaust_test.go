package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// peakHeapGrowth runs n calls of send at once and returns how far the
// heap in use rose above where it was before, sampled every millisecond.
func peakHeapGrowth(n int, send func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for range n {
		wg.Go(send)
	}
	wg.Wait()
	close(stop)
	<-sampled
	return peak - base
}

// Many large requests that are not signed, or signed with a wrong secret,
// sent at once do not fill the server's memory: unsigned ones are refused
// before their body is read; the others are read at most
// MaxUnverifiedBodies at a time. Before, each was read whole before its
// signature was looked at: 64 such 8 MiB requests held 64 bodies at once.
func TestUnverifiedBodiesKeepHeapBounded(t *testing.T) {
	const n, maxUnverified = 64, 2
	srv, err := New(Config{Service: &fakeService{}, AccountID: testAccount, Region: testRegion,
		Credentials: func(ak string) (string, bool) {
			if ak == testAccessKey {
				return testSecretKey, true
			}
			return "", false
		},
		MaxUnverifiedBodies: maxUnverified,
		Logger:              slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	body := bytes.Repeat([]byte{'{'}, maxExtBodyBytes) // shared by every request
	sum := sha256.Sum256(body)
	post := func(sign bool) func() {
		return func() {
			req, _ := http.NewRequest("PUT", ts.URL+"/cairn/stacks/big", bytes.NewReader(body))
			if sign {
				creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: "not-the-secret"}
				if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "backup", testRegion, time.Now()); err != nil {
					t.Error(err)
					return
				}
			}
			resp, err := client.Do(req)
			if err != nil {
				return // the server may close the connection before the body is sent
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("answer %s, want 403", resp.Status)
			}
		}
	}

	// 64 bodies of 8 MiB at once are 512 MiB (the heap grew by 550-650 MiB
	// before the fix). Two at a time are 16 MiB, plus what the garbage
	// collector has not reclaimed yet.
	if got := peakHeapGrowth(n, post(false)); got > 32<<20 {
		t.Errorf("%d unsigned 8 MiB requests at once: heap grew by %d MiB, want under 32 MiB", n, got>>20)
	} else {
		t.Logf("%d unsigned 8 MiB requests at once: heap grew by %.1f MiB", n, float64(got)/(1<<20))
	}
	if got := peakHeapGrowth(n, post(true)); got > 128<<20 {
		t.Errorf("%d badly signed 8 MiB requests at once: heap grew by %d MiB, want under 128 MiB (%d bodies of 8 MiB at a time)", n, got>>20, maxUnverified)
	} else {
		t.Logf("%d badly signed 8 MiB requests at once: heap grew by %.1f MiB", n, float64(got)/(1<<20))
	}
}
