package awsapi

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"
)

// Serve a backup.Service to the AWS SDK: any client signing with a known
// key reaches it.
func ExampleNew() {
	svc := &fakeService{vault: testVault("main-vault")} // any backup.Service
	s, err := New(Config{
		Service:   svc,
		AccountID: "123456789012",
		Credentials: func(accessKeyID string) (string, bool) {
			return "cairn-secret", accessKeyID == "cairn"
		},
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	client := newClient(srv.URL, "cairn", "cairn-secret")
	out, err := client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{
		BackupVaultName: aws.String("main-vault"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(*out.BackupVaultName, out.NumberOfRecoveryPoints)
	// Output: main-vault 7
}
