package awsapi

import (
	"regexp"

	"github.com/cairn-backup/cairn/internal/backup"
)

// AWS Backup Audit Manager's report plans and report jobs (the model's
// CreateReportPlan ... ListReportJobs). Names and shapes are the model's;
// requests are checked here before the service sees them.

type reportDeliveryChannel struct {
	S3BucketName *string  `json:"S3BucketName,omitempty"`
	S3KeyPrefix  *string  `json:"S3KeyPrefix,omitempty"`
	Formats      []string `json:"Formats,omitempty"`
}

type reportSetting struct {
	ReportTemplate     *string  `json:"ReportTemplate,omitempty"`
	FrameworkArns      []string `json:"FrameworkArns,omitempty"`
	NumberOfFrameworks *int     `json:"NumberOfFrameworks,omitempty"`
	Accounts           []string `json:"Accounts,omitempty"`
	OrganizationUnits  []string `json:"OrganizationUnits,omitempty"`
	Regions            []string `json:"Regions,omitempty"`
}

type createReportPlanInput struct {
	ReportPlanName        *string
	ReportPlanDescription *string
	ReportDeliveryChannel *reportDeliveryChannel
	ReportSetting         *reportSetting
	ReportPlanTags        map[string]string
	IdempotencyToken      string
}

type updateReportPlanInput struct {
	ReportPlanDescription *string
	ReportDeliveryChannel *reportDeliveryChannel
	ReportSetting         *reportSetting
	IdempotencyToken      string
}

type reportPlanOutput struct {
	ReportPlanName string
	ReportPlanArn  string
	CreationTime   epoch `json:",omitzero"`
}

type reportPlan struct {
	ReportPlanArn               string
	ReportPlanName              string
	ReportPlanDescription       string `json:",omitempty"`
	ReportSetting               reportSetting
	ReportDeliveryChannel       reportDeliveryChannel
	DeploymentStatus            string
	CreationTime                epoch `json:",omitzero"`
	LastAttemptedExecutionTime  epoch `json:",omitzero"`
	LastSuccessfulExecutionTime epoch `json:",omitzero"`
}

type reportDestination struct {
	S3BucketName string   `json:",omitempty"`
	S3Keys       []string `json:",omitempty"`
}

type reportJob struct {
	ReportJobId       string
	ReportPlanArn     string
	ReportTemplate    string
	CreationTime      epoch `json:",omitzero"`
	CompletionTime    epoch `json:",omitzero"`
	Status            string
	StatusMessage     string             `json:",omitempty"`
	ReportDestination *reportDestination `json:",omitempty"`
}

func toReportPlan(p *backup.ReportPlan) reportPlan {
	n := p.Setting.NumberOfFrameworks
	st := reportSetting{ReportTemplate: &p.Setting.ReportTemplate, FrameworkArns: p.Setting.FrameworkARNs,
		Accounts: p.Setting.Accounts, OrganizationUnits: p.Setting.OrganizationUnits, Regions: p.Setting.Regions}
	if len(p.Setting.FrameworkARNs) > 0 {
		st.NumberOfFrameworks = &n
	}
	d := reportDeliveryChannel{S3BucketName: &p.Delivery.S3BucketName, Formats: p.Delivery.Formats}
	if p.Delivery.S3KeyPrefix != "" {
		d.S3KeyPrefix = &p.Delivery.S3KeyPrefix
	}
	return reportPlan{ReportPlanArn: p.ARN, ReportPlanName: p.Name, ReportPlanDescription: p.Description,
		ReportSetting: st, ReportDeliveryChannel: d, DeploymentStatus: backup.DeploymentCompleted,
		CreationTime: epoch(p.CreationTime), LastAttemptedExecutionTime: epoch(p.LastAttemptedExecutionTime),
		LastSuccessfulExecutionTime: epoch(p.LastSuccessfulExecutionTime)}
}

func toReportJob(j *backup.ReportJob) reportJob {
	out := reportJob{ReportJobId: j.ID, ReportPlanArn: j.ReportPlanARN, ReportTemplate: j.ReportTemplate,
		CreationTime: epoch(j.CreationTime), CompletionTime: epoch(j.CompletionTime), Status: string(j.Status),
		StatusMessage: j.StatusMessage}
	if j.S3BucketName != "" {
		out.ReportDestination = &reportDestination{S3BucketName: j.S3BucketName, S3Keys: j.S3Keys}
	}
	return out
}

// fromDeliveryChannel checks the shape of a delivery channel; the service
// checks its values.
func fromDeliveryChannel(d *reportDeliveryChannel) (backup.ReportDeliveryChannel, error) {
	if d == nil {
		return backup.ReportDeliveryChannel{}, missingParam("ReportDeliveryChannel")
	}
	if d.S3BucketName == nil || *d.S3BucketName == "" {
		return backup.ReportDeliveryChannel{}, missingParam("ReportDeliveryChannel.S3BucketName")
	}
	out := backup.ReportDeliveryChannel{S3BucketName: *d.S3BucketName, Formats: d.Formats}
	if d.S3KeyPrefix != nil {
		out.S3KeyPrefix = *d.S3KeyPrefix
	}
	err := backup.ValidateReportDeliveryChannel("ReportDeliveryChannel", &out)
	return out, err
}

func (s *Server) fromReportSetting(st *reportSetting) (backup.ReportSetting, error) {
	if st == nil {
		return backup.ReportSetting{}, missingParam("ReportSetting")
	}
	if st.ReportTemplate == nil || *st.ReportTemplate == "" {
		return backup.ReportSetting{}, missingParam("ReportSetting.ReportTemplate")
	}
	out := backup.ReportSetting{ReportTemplate: *st.ReportTemplate, FrameworkARNs: st.FrameworkArns,
		Accounts: st.Accounts, OrganizationUnits: st.OrganizationUnits, Regions: st.Regions}
	err := backup.ValidateReportSetting("ReportSetting", &out, s.accountID, s.region)
	return out, err
}

func checkReportPlanName(name string) error {
	if name == "" {
		return missingParam("ReportPlanName")
	}
	return backup.ValidateReportPlanName("ReportPlanName", name)
}

func checkReportDescription(d *string) error {
	if d == nil {
		return nil
	}
	return backup.ValidateReportPlanDescription("ReportPlanDescription", *d)
}

func (s *Server) createReportPlan(q *request) (any, error) {
	var in createReportPlanInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.ReportPlanName == nil {
		return nil, missingParam("ReportPlanName")
	}
	if err := checkReportPlanName(*in.ReportPlanName); err != nil {
		return nil, err
	}
	if err := checkReportDescription(in.ReportPlanDescription); err != nil {
		return nil, err
	}
	d, err := fromDeliveryChannel(in.ReportDeliveryChannel)
	if err != nil {
		return nil, err
	}
	st, err := s.fromReportSetting(in.ReportSetting)
	if err != nil {
		return nil, err
	}
	if err := backup.ValidateTags("ReportPlanTags", in.ReportPlanTags); err != nil {
		return nil, err
	}
	desc := ""
	if in.ReportPlanDescription != nil {
		desc = *in.ReportPlanDescription
	}
	p, err := s.svc.CreateReportPlan(q.ctx(), backup.CreateReportPlanInput{
		Name: *in.ReportPlanName, Description: desc, Delivery: d, Setting: st,
		Tags: in.ReportPlanTags, IdempotencyToken: in.IdempotencyToken,
	})
	if err != nil {
		return nil, err
	}
	return reportPlanOutput{ReportPlanName: p.Name, ReportPlanArn: p.ARN, CreationTime: epoch(p.CreationTime)}, nil
}

func (s *Server) describeReportPlan(q *request) (any, error) {
	name := q.path("reportPlanName")
	if err := checkReportPlanName(name); err != nil {
		return nil, err
	}
	p, err := s.svc.DescribeReportPlan(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return struct{ ReportPlan reportPlan }{toReportPlan(p)}, nil
}

func (s *Server) listReportPlans(q *request) (any, error) {
	p := q.awsPage()
	if err := q.err(); err != nil {
		return nil, err
	}
	plans, next, err := s.svc.ListReportPlans(q.ctx(), p)
	if err != nil {
		return nil, err
	}
	out := struct {
		ReportPlans []reportPlan
		NextToken   string `json:",omitempty"`
	}{ReportPlans: []reportPlan{}, NextToken: next}
	for _, p := range plans {
		out.ReportPlans = append(out.ReportPlans, toReportPlan(p))
	}
	return out, nil
}

func (s *Server) updateReportPlan(q *request) (any, error) {
	name := q.path("reportPlanName")
	if err := checkReportPlanName(name); err != nil {
		return nil, err
	}
	var in updateReportPlanInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := checkReportDescription(in.ReportPlanDescription); err != nil {
		return nil, err
	}
	u := backup.UpdateReportPlanInput{Name: name, Description: in.ReportPlanDescription}
	if in.ReportDeliveryChannel != nil {
		d, err := fromDeliveryChannel(in.ReportDeliveryChannel)
		if err != nil {
			return nil, err
		}
		u.Delivery = &d
	}
	if in.ReportSetting != nil {
		st, err := s.fromReportSetting(in.ReportSetting)
		if err != nil {
			return nil, err
		}
		u.Setting = &st
	}
	p, err := s.svc.UpdateReportPlan(q.ctx(), u)
	if err != nil {
		return nil, err
	}
	return reportPlanOutput{ReportPlanName: p.Name, ReportPlanArn: p.ARN, CreationTime: epoch(p.CreationTime)}, nil
}

func (s *Server) deleteReportPlan(q *request) (any, error) {
	name := q.path("reportPlanName")
	if err := checkReportPlanName(name); err != nil {
		return nil, err
	}
	return nil, s.svc.DeleteReportPlan(q.ctx(), name)
}

func (s *Server) startReportJob(q *request) (any, error) {
	name := q.path("reportPlanName")
	if err := checkReportPlanName(name); err != nil {
		return nil, err
	}
	var in struct{ IdempotencyToken string }
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	j, err := s.svc.StartReportJob(q.ctx(), name, in.IdempotencyToken)
	if err != nil {
		return nil, err
	}
	return struct{ ReportJobId string }{j.ID}, nil
}

// reportJobIDPattern admits the ids cairn gives report jobs and any id of
// AWS's form (at most 1,024 bytes).
var reportJobIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-_.]*$`)

func (s *Server) describeReportJob(q *request) (any, error) {
	id := q.path("reportJobId")
	if id == "" {
		return nil, missingParam("ReportJobId")
	}
	if len(id) > 1024 || !reportJobIDPattern.MatchString(id) {
		return nil, backup.NotFound("ReportJob", id)
	}
	j, err := s.svc.GetReportJob(q.ctx(), id)
	if err != nil {
		return nil, err
	}
	return struct{ ReportJob reportJob }{toReportJob(j)}, nil
}

func (s *Server) listReportJobs(q *request) (any, error) {
	f := backup.ReportJobFilter{Page: q.awsPage(), CreatedAfter: q.timestamp("CreationAfter"), CreatedBefore: q.timestamp("CreationBefore")}
	plan := q.str("ReportPlanName")
	if plan != "" {
		if err := backup.ValidateReportPlanName("ReportPlanName", plan); err != nil {
			q.fail(err)
		}
	}
	switch st := q.str("Status"); {
	case st == "":
	case st == "COMPLETED_WITH_ISSUES":
		// Only scan jobs end so (the model says); no report job does.
		f.Status = backup.ReportJobStatus(st)
	case backup.ValidReportJobStatus(st):
		f.Status = backup.ReportJobStatus(st)
	default:
		q.fail(invalidParam("Status %q is not a report job status (CREATED, RUNNING, COMPLETED or FAILED)", st))
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	out := struct {
		ReportJobs []reportJob
		NextToken  string `json:",omitempty"`
	}{ReportJobs: []reportJob{}}
	if f.Status == "COMPLETED_WITH_ISSUES" {
		return out, nil
	}
	jobs, next, err := s.svc.ListReportJobs(q.ctx(), plan, f)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		out.ReportJobs = append(out.ReportJobs, toReportJob(j))
	}
	out.NextToken = next
	return out, nil
}

// awsPage returns the MaxResults and NextToken query members of the Audit
// Manager operations, which spell them so.
func (q *request) awsPage() backup.Page {
	p := backup.Page{NextToken: q.str("NextToken")}
	p.MaxResults = q.integer("MaxResults", 1, 1000, 0)
	return p
}
