package awsapi

import (
	"net/url"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

func TestVerifyVault(t *testing.T) {
	fake := &fakeService{vaultCheck: &backup.VaultCheck{VaultName: "main-vault", RecoveryPointARNs: []string{pointARN},
		CatalogPoints: 2, StoredPoints: 1,
		Problems: []backup.VerifyFinding{{RecoveryPointID: "gone", Message: "missing"}},
		Notes:    []backup.VerifyFinding{{RecoveryPointID: "litter", Message: "incomplete"}}}}
	e := newTestEnv(t, fake, nil)
	status, _, out := e.do(t, "GET", "/cairn/verify/vaults/main-vault", nil, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	onlyCall(t, fake, "VerifyVault", "main-vault")
	want := `{"BackupVaultName":"main-vault","RecoveryPointArns":["` + pointARN + `"],"CatalogPoints":2,"StoredPoints":1,` +
		`"Problems":[{"RecoveryPointId":"gone","Message":"missing"}],"Notes":[{"RecoveryPointId":"litter","Message":"incomplete"}]}`
	if string(out) != want {
		t.Errorf("body\n%s\nwant\n%s", out, want)
	}
}

func TestVerifyRecoveryPoint(t *testing.T) {
	fake := &fakeService{pointCheck: &backup.PointCheck{VaultName: "main-vault", RecoveryPointARN: pointARN, Files: 6, Bytes: 1234,
		Items: 10, ReadData: true, Problems: []backup.VerifyFinding{{RecoveryPointID: "p", File: "AWSDynamoDB/p/data/x.json.zst", Message: "MD5"}}}}
	e := newTestEnv(t, fake, nil)
	path := "/cairn/verify/vaults/main-vault/recovery-points/" + url.PathEscape(pointARN)
	status, _, out := e.do(t, "GET", path+"?readData=true", nil, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	onlyCall(t, fake, "VerifyRecoveryPoint", verifyPointCall{"main-vault", pointARN, true})
	want := `{"BackupVaultName":"main-vault","RecoveryPointArn":"` + pointARN + `","Files":6,"Bytes":1234,"Items":10,"ReadData":true,` +
		`"Problems":[{"RecoveryPointId":"p","File":"AWSDynamoDB/p/data/x.json.zst","Message":"MD5"}],"Notes":[]}`
	if string(out) != want {
		t.Errorf("body\n%s\nwant\n%s", out, want)
	}
	for _, bad := range []struct{ path, errType string }{
		{path + "?readData=maybe", "InvalidParameterValueException"},
		{"/cairn/verify/vaults/main-vault/recovery-points/not-an-arn", "InvalidParameterValueException"},
		{"/cairn/verify/vaults/bad%20name", "InvalidParameterValueException"},
	} {
		e := newTestEnv(t, nil, nil)
		status, errType, body := e.do(t, "GET", bad.path, nil, true)
		if status != 400 || errType != bad.errType {
			t.Errorf("GET %s: %d %s %.200s", bad.path, status, errType, body)
		}
		if calls := e.fake.Calls(); len(calls) != 0 {
			t.Errorf("the service was called: %+v", calls)
		}
	}
}
