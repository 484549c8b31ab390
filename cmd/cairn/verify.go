package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

// exitProblems is the exit code of a verify that found problems.
const exitProblems = 4

const vaultVerifyLong = `Check that vaults hold what they should, like restic check: for each vault
(every vault, or --vault NAME), that the catalog and the vault's storage
agree on its recovery points (points the catalog lists that are missing or
incomplete in storage, complete points in storage the catalog does not
list), then for each recovery point that every file is there and matches
what records it: manifest-summary.json and manifest-files.json against
their .checksum files, the manifests against each other and the catalog,
every data file's size and MD5 (which reads every stored byte), and no file
the manifests do not list.

--read-data also decompresses every data file and recomputes its item count
and the point's content checksum, item by item.

Problems are printed as they are found, then a summary (with --output
json, one document at the end). Notes (an
incomplete point left by a cut-short write, which the background sweep
removes; a file in an archive storage class, which cannot be read) do not
fail the check. The exit code is 0 when nothing is wrong, 4 when a problem
was found, 1 when the check itself could not run.`

const vaultVerifyExample = `  cairn vault verify
  cairn vault verify --vault offsite --read-data`

func (c *cli) vaultVerifyCmd() *cobra.Command {
	var vaultName string
	var readData bool
	cmd := &cobra.Command{
		Use:     "verify",
		Short:   "Check every recovery point's files and the catalog against the vaults",
		Long:    vaultVerifyLong,
		Example: vaultVerifyExample,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&vaultName, "vault", "", "check only this vault (default: every vault)")
	fs.BoolVar(&readData, "read-data", false, "also decompress every data file and recompute item counts and content checksums")
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		ext, err := c.connectExt()
		if err != nil {
			return err
		}
		names := []string{vaultName}
		if vaultName == "" {
			if names, err = c.vaultNames(ctx); err != nil {
				return err
			}
		}
		var rep verifyReport
		for _, name := range names {
			if err := c.verifyVault(ctx, ext, name, readData, &rep); err != nil {
				return err
			}
		}
		s := &rep.Summary
		s.Vaults = len(names)
		if c.out.json() {
			if err := printJSON(c.stdout, rep); err != nil {
				return err
			}
		} else {
			what := "files"
			if readData {
				what = "files and " + strconv.FormatInt(s.Items, 10) + " items"
			}
			fmt.Fprintf(c.stdout, "\nchecked %d vaults, %d recovery points, %d %s (%s read): %d problems, %d notes\n",
				s.Vaults, s.RecoveryPoints, s.Files, what, humanBytes(s.Bytes), s.Problems, s.Notes)
		}
		if s.Problems > 0 {
			return &exitError{exitProblems, fmt.Errorf("verify found %d problems (listed above)", s.Problems)}
		}
		return nil
	})
	return cmd
}

// verifyReport is what a verify checked and found: --output json prints
// it whole.
type verifyReport struct {
	Vaults  []vaultReport
	Summary struct {
		Vaults, RecoveryPoints, Files, Problems, Notes int
		Bytes, Items                                   int64
	}
}

type vaultReport struct {
	Vault          awsapi.VaultCheck
	RecoveryPoints []awsapi.PointCheck
}

// vaultNames lists every vault's name.
func (c *cli) vaultNames(ctx context.Context) ([]string, error) {
	var names []string
	p := bk.NewListBackupVaultsPaginator(c.client, &bk.ListBackupVaultsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range page.BackupVaultList {
			names = append(names, aws.ToString(v.BackupVaultName))
		}
	}
	return names, nil
}

// verifyVault checks one vault, then each of its recovery points, printing
// findings as they come (unless the output is JSON).
func (c *cli) verifyVault(ctx context.Context, ext *extClient, name string, readData bool, rep *verifyReport) error {
	var vc awsapi.VaultCheck
	if err := ext.do(ctx, http.MethodGet, "/cairn/verify/vaults/"+url.PathEscape(name), nil, nil, &vc); err != nil {
		return err
	}
	vr := vaultReport{Vault: vc, RecoveryPoints: []awsapi.PointCheck{}}
	text := !c.out.json()
	if text {
		fmt.Fprintf(c.stdout, "vault %s: %d recovery points in the catalog, %d complete in storage\n", name, vc.CatalogPoints, vc.StoredPoints)
		c.printFindings(vc.Problems, vc.Notes)
	}
	s := &rep.Summary
	s.Problems += len(vc.Problems)
	s.Notes += len(vc.Notes)
	for _, arn := range vc.RecoveryPointArns {
		var pc awsapi.PointCheck
		q := url.Values{}
		if readData {
			q.Set("readData", "true")
		}
		path := "/cairn/verify/vaults/" + url.PathEscape(name) + "/recovery-points/" + url.PathEscape(arn)
		if err := ext.do(ctx, http.MethodGet, path, q, nil, &pc); err != nil {
			return err
		}
		vr.RecoveryPoints = append(vr.RecoveryPoints, pc)
		s.RecoveryPoints++
		s.Files += pc.Files
		s.Bytes += pc.Bytes
		s.Items += pc.Items
		s.Problems += len(pc.Problems)
		s.Notes += len(pc.Notes)
		if !text {
			continue
		}
		status := "ok"
		if len(pc.Problems) > 0 {
			status = "PROBLEM"
		}
		detail := fmt.Sprintf("%d files, %s", pc.Files, humanBytes(pc.Bytes))
		if readData {
			detail += fmt.Sprintf(", %d items", pc.Items)
		}
		fmt.Fprintf(c.stdout, "  %-7s  %s  %s\n", status, arn[strings.LastIndexByte(arn, ':')+1:], detail)
		c.printFindings(pc.Problems, pc.Notes)
	}
	rep.Vaults = append(rep.Vaults, vr)
	return nil
}

func (c *cli) printFindings(problems, notes []awsapi.VerifyFinding) {
	for _, f := range problems {
		fmt.Fprintf(c.stdout, "    problem: %s\n", finding(f))
	}
	for _, f := range notes {
		fmt.Fprintf(c.stdout, "    note: %s\n", finding(f))
	}
}

func finding(f awsapi.VerifyFinding) string {
	if f.RecoveryPointId != "" {
		return "recovery point " + f.RecoveryPointId + ": " + f.Message
	}
	return f.Message
}
