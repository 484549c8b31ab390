package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	cairnddb "github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/engine"
	"github.com/cairn-backup/cairn/internal/vault"
)

const (
	role = "arn:aws:iam::000000000000:role/cairn-bench"
	// pollEvery is how often a job is polled: the job's time comes from
	// its own CreationDate and CompletionDate, so polling only has to
	// notice the end, and each poll costs the server CPU that counts
	// against the job (the CLI polls every 500 ms).
	pollEvery = 100 * time.Millisecond
)

func tableARN(table string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + table }

func sdkClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")})
}

func createTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String(name),
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		BillingMode:           ddbtypes.BillingModeProvisioned,
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1000), WriteCapacityUnits: aws.Int64(1000)},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	// dynalite answers CreateTable with a CREATING table and refuses
	// writes (ResourceNotFoundException) until it is ACTIVE, even with
	// --createTableMs 0.
	for range 3000 {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if d.Table.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("table %s is not ACTIVE after 30 s", name)
}

// itemSource generates the benchmark's items: ddbjson.RandomItems with a
// fixed seed, in chunks, so a table of any size is generated without
// holding it in memory, and the same seed gives the same items again.
type itemSource struct {
	rng     *rand.Rand
	left    int
	payload int
}

func newItemSource(n, payload int) *itemSource {
	return &itemSource{rng: rand.New(rand.NewPCG(uint64(n), 7)), left: n, payload: payload}
}

// batches returns the next chunk of at most 1000 items as BatchWriteItem
// requests of 25 items, and their JSON bytes; nil at the end.
func (s *itemSource) batches() ([][]ddbtypes.WriteRequest, int64, error) {
	n := min(s.left, 1000)
	if n == 0 {
		return nil, 0, nil
	}
	s.left -= n
	var out [][]ddbtypes.WriteRequest
	var bytes int64
	var cur []ddbtypes.WriteRequest
	for _, raw := range ddbjson.RandomItems(s.rng, n, s.payload) {
		bytes += int64(len(raw))
		av, err := ddbjson.ToAttributeValues(raw)
		if err != nil {
			return nil, 0, err
		}
		cur = append(cur, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: av}})
		if len(cur) == 25 {
			out, cur = append(out, cur), nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, bytes, nil
}

// allBatches generates every item up front (for the timed baseline).
func allBatches(n, payload int) ([][]ddbtypes.WriteRequest, int64, error) {
	src := newItemSource(n, payload)
	var all [][]ddbtypes.WriteRequest
	var total int64
	for {
		b, bytes, err := src.batches()
		if err != nil || b == nil {
			return all, total, err
		}
		all, total = append(all, b...), total+bytes
	}
}

// loadParallel sends every batch from next with BatchWriteItem from
// writers goroutines, re-sending UnprocessedItems, and returns how many
// items it wrote.
func loadParallel(ctx context.Context, db *dynamodb.Client, table string, writers int, next func() ([]ddbtypes.WriteRequest, error)) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan []ddbtypes.WriteRequest, 4*writers)
	var written atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for reqs := range ch {
				for try := 0; len(reqs) > 0; try++ {
					if try == 100 {
						cancel(errors.New("items still unprocessed after 100 tries"))
						return
					}
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{table: reqs}})
					if err != nil {
						cancel(err)
						return
					}
					written.Add(int64(len(reqs) - len(out.UnprocessedItems[table])))
					reqs = out.UnprocessedItems[table]
				}
			}
		})
	}
	var err error
	for ctx.Err() == nil {
		var reqs []ddbtypes.WriteRequest
		if reqs, err = next(); err != nil || reqs == nil {
			break
		}
		select {
		case ch <- reqs:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	return written.Load(), err
}

// seed creates table and fills it with n generated items. It returns the
// items' JSON bytes.
func seed(ctx context.Context, db *dynamodb.Client, table string, n, payload, writers int) (int64, error) {
	if err := createTable(ctx, db, table); err != nil {
		return 0, err
	}
	src := newItemSource(n, payload)
	var pending [][]ddbtypes.WriteRequest
	var total int64
	t0 := time.Now()
	last := t0
	var sent int
	written, err := loadParallel(ctx, db, table, writers, func() ([]ddbtypes.WriteRequest, error) {
		if len(pending) == 0 {
			b, bytes, err := src.batches()
			if err != nil || b == nil {
				return nil, err
			}
			pending, total = b, total+bytes
		}
		reqs := pending[0]
		pending = pending[1:]
		sent += len(reqs)
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			logf("  seeding %s: %d of %d items (%.0f items/s)", table, sent, n, float64(sent)/time.Since(t0).Seconds())
		}
		return reqs, nil
	})
	if err != nil {
		return 0, fmt.Errorf("seed %s: %w", table, err)
	}
	if written != int64(n) {
		return 0, fmt.Errorf("seed %s: wrote %d items, want %d", table, written, n)
	}
	return total, nil
}

// measurement is one timed run.
type measurement struct {
	Items    int64
	Duration time.Duration
	CPU      time.Duration // CPU time of the client (baseline) or cairn server
	Sys      time.Duration // the part of CPU spent in the kernel
	Instr    int64         // instructions of the cairn server (under callgrind), 0 if not counted
	HWM      int64         // cairn server's VmHWM, bytes; 0 for baselines
	Note     string
	// DynCPU is dynalite's CPU time (user and system) from just before
	// the run to just after it: what the source spent serving it.
	DynCPU time.Duration
	// Phases of a cairn backup job, from the job's and its recovery
	// point's dates: Pre from the job's creation to the point's (the job
	// is queued, DescribeTable, the vault), Scan from there to the
	// point's completion (scan, compress, close every data file), Post
	// from there to the job's completion (manifests, catalog). Zero for
	// other runs.
	Pre, Scan, Post time.Duration
}

func (m measurement) rate() float64 { return float64(m.Items) / m.Duration.Seconds() }

// profileSelf runs fn with this process's CPU profile written to path;
// path "" runs fn alone.
func profileSelf(path string, fn func() (measurement, error)) (measurement, error) {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return measurement{}, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return measurement{}, err
	}
	m, err := fn()
	pprof.StopCPUProfile()
	return m, err
}

// cpuTime is a process's user and system CPU time so far.
type cpuTime struct{ user, sys time.Duration }

func selfCPU() cpuTime {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return cpuTime{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// measured is m with the CPU time between a and b.
func (m measurement) measured(a, b cpuTime) measurement {
	m.CPU = b.user + b.sys - a.user - a.sys
	m.Sys = b.sys - a.sys
	return m
}

// sdkScan is the backup baseline: the SDK's parallel Scan with segments
// segments, items decoded by the SDK and counted.
func sdkScan(ctx context.Context, db *dynamodb.Client, table string, segments int) (measurement, error) {
	var n atomic.Int64
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cpu0, t0 := selfCPU(), time.Now()
	var wg sync.WaitGroup
	for seg := range segments {
		wg.Go(func() {
			p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table),
				Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(segments)),
				ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					cancel(err)
					return
				}
				n.Add(int64(len(out.Items)))
			}
		})
	}
	wg.Wait()
	m := measurement{Items: n.Load(), Duration: time.Since(t0)}.measured(cpu0, selfCPU())
	return m, context.Cause(ctx)
}

// sdkDescribeScan is sdkScan preceded by the calls with which cairn
// records a table's settings before it scans (dynamodb.Client's
// DescribeTable): DescribeTable, DescribeTimeToLive,
// DescribeContinuousBackups and ListTagsOfResource, one after the other.
// A server that does not implement one of them (dynalite has no
// DescribeContinuousBackups) answers with an error the run ignores, as
// cairn does. It tells what a backup's start costs the source from what
// its scan costs.
func sdkDescribeScan(ctx context.Context, db *dynamodb.Client, table string, segments int) (measurement, error) {
	cpu0, t0 := selfCPU(), time.Now()
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return measurement{}, err
	}
	_, _ = db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	_, _ = db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	if _, err := db.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: d.Table.TableArn}); err != nil {
		return measurement{}, err
	}
	m, err := sdkScan(ctx, db, table, segments)
	m.Duration = time.Since(t0)
	return m.measured(cpu0, selfCPU()), err
}

// sdkLoad is the restore baseline: the SDK's BatchWriteItem from writers
// goroutines, items decoded before the clock starts.
func sdkLoad(ctx context.Context, db *dynamodb.Client, table string, writers int, batches [][]ddbtypes.WriteRequest) (measurement, error) {
	if err := createTable(ctx, db, table); err != nil {
		return measurement{}, err
	}
	i := 0
	cpu0, t0 := selfCPU(), time.Now()
	n, err := loadParallel(ctx, db, table, writers, func() ([]ddbtypes.WriteRequest, error) {
		if i == len(batches) {
			return nil, nil
		}
		i++
		return batches[i-1], nil
	})
	return measurement{Items: n, Duration: time.Since(t0)}.measured(cpu0, selfCPU()), err
}

// engineBackup runs engine.Backup in this process, with cairn's raw data
// plane, into a file vault under dir: the backup without the server
// around it.
func engineBackup(ctx context.Context, endpoint, table, dir string, segments int) (measurement, error) {
	c, err := cairnddb.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")},
		cairnddb.Options{SDKOptions: []func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }}})
	if err != nil {
		return measurement{}, err
	}
	store, err := fileblob.New(dir)
	if err != nil {
		return measurement{}, err
	}
	cpu0, t0 := selfCPU(), time.Now()
	w, err := vault.New(store).Create(ctx, "point", vault.WriterOptions{})
	if err != nil {
		return measurement{}, err
	}
	res, err := engine.Backup(ctx, engine.BackupInput{Table: table, Scanner: c, Segments: segments,
		NewSink: func() engine.ItemSink { return w.NewFile() }})
	if err != nil {
		w.Abort(context.Background())
		return measurement{}, err
	}
	if _, err := w.Commit(ctx, vault.CommitInfo{ExpectedItemCount: &res.Items, ContentChecksum: res.Checksum}); err != nil {
		return measurement{}, err
	}
	return measurement{Items: res.Items, Duration: time.Since(t0)}.measured(cpu0, selfCPU()), nil
}

// jobTimeout bounds every poll loop: generous for the slowest rate seen
// on a busy machine (1k items/s), plus a fixed margin.
func jobTimeout(items int) time.Duration {
	return 5*time.Minute + time.Duration(items)*time.Millisecond
}

// cairnBackup starts a backup job on s and polls it until it ends. The
// duration is the job's own CompletionDate - CreationDate.
// With profileTo set and a profiling server, the server's CPU profile of
// the job is written there.
func cairnBackup(ctx context.Context, s *cairnServer, table string, segments int, items int, profileTo string) (measurement, string, error) {
	if profileTo != "" {
		if err := s.startProfile(); err != nil {
			return measurement{}, "", err
		}
	}
	if err := s.zeroCounts(); err != nil {
		return measurement{}, "", err
	}
	before := s.stats()
	out, err := s.client.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String(tableARN(table)), IamRoleArn: aws.String(role),
		BackupOptions: map[string]string{"Segments": fmt.Sprint(segments)}})
	if err != nil {
		return measurement{}, "", fmt.Errorf("StartBackupJob: %w", err)
	}
	deadline := time.Now().Add(jobTimeout(items))
	for time.Now().Before(deadline) {
		j, err := s.client.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: out.BackupJobId})
		if err != nil {
			return measurement{}, "", fmt.Errorf("DescribeBackupJob: %w", err)
		}
		switch j.State {
		case bktypes.BackupJobStateCompleted:
			after := s.stats()
			if profileTo != "" {
				if err := s.stopProfile(profileTo); err != nil {
					return measurement{}, "", err
				}
			}
			instr, err := s.dumpCounts()
			if err != nil {
				return measurement{}, "", err
			}
			rp, err := s.client.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"),
				RecoveryPointArn: j.RecoveryPointArn})
			if err != nil {
				return measurement{}, "", fmt.Errorf("DescribeRecoveryPoint: %w", err)
			}
			jobStart, jobEnd := aws.ToTime(j.CreationDate), aws.ToTime(j.CompletionDate)
			rpStart, rpEnd := aws.ToTime(rp.CreationDate), aws.ToTime(rp.CompletionDate)
			m := measurement{Pre: rpStart.Sub(jobStart), Scan: rpEnd.Sub(rpStart), Post: jobEnd.Sub(rpEnd),
				Items: int64(items), Duration: aws.ToTime(j.CompletionDate).Sub(aws.ToTime(j.CreationDate)),
				HWM:   after.HWM,
				Instr: instr,
				Note:  fmt.Sprintf("%d bytes of items, %d stored", aws.ToInt64(j.BytesTransferred), aws.ToInt64(j.BackupSizeInBytes))}.measured(before.CPU, after.CPU)
			return m, aws.ToString(j.RecoveryPointArn), nil
		case bktypes.BackupJobStateFailed, bktypes.BackupJobStateAborted, bktypes.BackupJobStateExpired:
			return measurement{}, "", fmt.Errorf("backup job %s: %s", j.State, aws.ToString(j.StatusMessage))
		}
		time.Sleep(s.pollEvery())
	}
	return measurement{}, "", fmt.Errorf("backup job %s did not end within %s", aws.ToString(out.BackupJobId), jobTimeout(items))
}

// cairnRestore restores rpARN into a new table target and polls the job
// until it ends.
func cairnRestore(ctx context.Context, s *cairnServer, rpARN, target string, validate bool, items int) (measurement, error) {
	meta := map[string]string{"TargetTableName": target}
	if !validate {
		meta["cairn:SkipValidation"] = "true"
	}
	before := s.stats()
	out, err := s.client.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN),
		IamRoleArn: aws.String(role), Metadata: meta, ResourceType: aws.String("DynamoDB")})
	if err != nil {
		return measurement{}, fmt.Errorf("StartRestoreJob: %w", err)
	}
	deadline := time.Now().Add(jobTimeout(2 * items))
	for time.Now().Before(deadline) {
		j, err := s.client.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: out.RestoreJobId})
		if err != nil {
			return measurement{}, fmt.Errorf("DescribeRestoreJob: %w", err)
		}
		switch j.Status {
		case bktypes.RestoreJobStatusCompleted:
			after := s.stats()
			m := measurement{Items: int64(items), Duration: aws.ToTime(j.CompletionDate).Sub(aws.ToTime(j.CreationDate)),
				HWM: after.HWM}.measured(before.CPU, after.CPU)
			if validate {
				m.Note = string(j.ValidationStatus)
			}
			return m, nil
		case bktypes.RestoreJobStatusFailed, bktypes.RestoreJobStatusAborted:
			return measurement{}, fmt.Errorf("restore job %s: %s", j.Status, aws.ToString(j.StatusMessage))
		}
		time.Sleep(s.pollEvery())
	}
	return measurement{}, fmt.Errorf("restore job %s did not end within %s", aws.ToString(out.RestoreJobId), jobTimeout(2*items))
}
