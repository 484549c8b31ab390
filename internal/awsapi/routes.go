package awsapi

import (
	"net/http"
	"path"
	"strings"
)

// routes lists the operations served, as the botocore model places them
// (http.method and http.requestUri). A trailing slash in the model's URI is
// matched exactly with {$}. To serve another operation, add its handler and
// a line here.
var routes = []route{
	{"PUT /backup-vaults/{backupVaultName}", "CreateBackupVault", (*Server).createBackupVault},
	{"GET /backup-vaults/{backupVaultName}", "DescribeBackupVault", (*Server).describeBackupVault},
	{"GET /backup-vaults/{$}", "ListBackupVaults", (*Server).listBackupVaults},
	{"DELETE /backup-vaults/{backupVaultName}", "DeleteBackupVault", (*Server).deleteBackupVault},

	{"PUT /backup-jobs", "StartBackupJob", (*Server).startBackupJob},
	{"GET /backup-jobs/{backupJobId}", "DescribeBackupJob", (*Server).describeBackupJob},
	{"GET /backup-jobs/{$}", "ListBackupJobs", (*Server).listBackupJobs},
	{"POST /backup-jobs/{backupJobId}", "StopBackupJob", (*Server).stopBackupJob},

	{"GET /backup-vaults/{backupVaultName}/recovery-points/{$}", "ListRecoveryPointsByBackupVault", (*Server).listRecoveryPointsByBackupVault},
	{"GET /resources/{resourceArn}/recovery-points/{$}", "ListRecoveryPointsByResource", (*Server).listRecoveryPointsByResource},
	{"GET /backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}", "DescribeRecoveryPoint", (*Server).describeRecoveryPoint},
	{"DELETE /backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}", "DeleteRecoveryPoint", (*Server).deleteRecoveryPoint},
	{"GET /backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}/restore-metadata", "GetRecoveryPointRestoreMetadata", (*Server).getRecoveryPointRestoreMetadata},
	{"POST /backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}", "UpdateRecoveryPointLifecycle", (*Server).updateRecoveryPointLifecycle},
	{"GET /resources/{$}", "ListProtectedResources", (*Server).listProtectedResources},
	{"GET /resources/{resourceArn}", "DescribeProtectedResource", (*Server).describeProtectedResource},
	{"GET /backup-vaults/{backupVaultName}/resources/{$}", "ListProtectedResourcesByBackupVault", (*Server).listProtectedResourcesByBackupVault},

	{"PUT /restore-jobs", "StartRestoreJob", (*Server).startRestoreJob},
	{"GET /restore-jobs/{restoreJobId}", "DescribeRestoreJob", (*Server).describeRestoreJob},
	{"GET /restore-jobs/{$}", "ListRestoreJobs", (*Server).listRestoreJobs},

	{"PUT /backup/plans/{$}", "CreateBackupPlan", (*Server).createBackupPlan},
	{"GET /backup/plans/{$}", "ListBackupPlans", (*Server).listBackupPlans},
	{"GET /backup/plans/{backupPlanId}/{$}", "GetBackupPlan", (*Server).getBackupPlan},
	{"POST /backup/plans/{backupPlanId}", "UpdateBackupPlan", (*Server).updateBackupPlan},
	{"DELETE /backup/plans/{backupPlanId}", "DeleteBackupPlan", (*Server).deleteBackupPlan},
	{"GET /backup/plans/{backupPlanId}/versions/{$}", "ListBackupPlanVersions", (*Server).listBackupPlanVersions},
	{"POST /backup/template/json/toPlan", "GetBackupPlanFromJSON", (*Server).getBackupPlanFromJSON},

	{"PUT /backup/plans/{backupPlanId}/selections/{$}", "CreateBackupSelection", (*Server).createBackupSelection},
	{"GET /backup/plans/{backupPlanId}/selections/{$}", "ListBackupSelections", (*Server).listBackupSelections},
	{"GET /backup/plans/{backupPlanId}/selections/{selectionId}", "GetBackupSelection", (*Server).getBackupSelection},
	{"DELETE /backup/plans/{backupPlanId}/selections/{selectionId}", "DeleteBackupSelection", (*Server).deleteBackupSelection},

	{"PUT /copy-jobs", "StartCopyJob", (*Server).startCopyJob},
	{"GET /copy-jobs/{copyJobId}", "DescribeCopyJob", (*Server).describeCopyJob},
	{"GET /copy-jobs/{$}", "ListCopyJobs", (*Server).listCopyJobs},

	{"POST /tags/{resourceArn}", "TagResource", (*Server).tagResource},
	{"POST /untag/{resourceArn}", "UntagResource", (*Server).untagResource},
	{"GET /tags/{resourceArn}/{$}", "ListTags", (*Server).listTags},

	{"POST /audit/frameworks", "CreateFramework", (*Server).createFramework},
	{"GET /audit/frameworks/{frameworkName}", "DescribeFramework", (*Server).describeFramework},
	{"GET /audit/frameworks", "ListFrameworks", (*Server).listFrameworks},
	{"PUT /audit/frameworks/{frameworkName}", "UpdateFramework", (*Server).updateFramework},
	{"DELETE /audit/frameworks/{frameworkName}", "DeleteFramework", (*Server).deleteFramework},

	// Audit Manager's report plans and report jobs (reportplans.go).
	{"POST /audit/report-plans", "CreateReportPlan", (*Server).createReportPlan},
	{"GET /audit/report-plans/{reportPlanName}", "DescribeReportPlan", (*Server).describeReportPlan},
	{"GET /audit/report-plans", "ListReportPlans", (*Server).listReportPlans},
	{"PUT /audit/report-plans/{reportPlanName}", "UpdateReportPlan", (*Server).updateReportPlan},
	{"DELETE /audit/report-plans/{reportPlanName}", "DeleteReportPlan", (*Server).deleteReportPlan},
	{"POST /audit/report-jobs/{reportPlanName}", "StartReportJob", (*Server).startReportJob},
	{"GET /audit/report-jobs/{reportJobId}", "DescribeReportJob", (*Server).describeReportJob},
	{"GET /audit/report-jobs", "ListReportJobs", (*Server).listReportJobs},

	// Job summaries (summaries.go).
	{"GET /audit/backup-job-summaries", "ListBackupJobSummaries", (*Server).listBackupJobSummaries},
	{"GET /audit/restore-job-summaries", "ListRestoreJobSummaries", (*Server).listRestoreJobSummaries},
	{"GET /audit/copy-job-summaries", "ListCopyJobSummaries", (*Server).listCopyJobSummaries},

	// Vault notifications (notifications.go).
	{"PUT /backup-vaults/{backupVaultName}/notification-configuration", "PutBackupVaultNotifications", (*Server).putBackupVaultNotifications},
	{"GET /backup-vaults/{backupVaultName}/notification-configuration", "GetBackupVaultNotifications", (*Server).getBackupVaultNotifications},
	{"DELETE /backup-vaults/{backupVaultName}/notification-configuration", "DeleteBackupVaultNotifications", (*Server).deleteBackupVaultNotifications},
	{"POST /cairn/notifications/test", "TestNotification", (*Server).testNotification},
	{"GET /cairn/notifications/deliveries", "ListDeliveries", (*Server).listDeliveries},

	// cairn's own operations (ext.go), outside AWS's URI space.
	{"PUT /cairn/stacks/{stackName}", "ApplyStack", (*Server).applyStack},
	{"DELETE /cairn/stacks/{stackName}", "DeleteStack", (*Server).deleteStack},
	{"GET /cairn/stacks/{stackName}", "GetStack", (*Server).getStack},
	{"GET /cairn/explain", "ExplainResource", (*Server).explainResource},
	{"PUT /cairn/policies/{policyName}", "ApplyPolicy", (*Server).applyPolicy},
	{"GET /cairn/policies", "ListPolicies", (*Server).listPolicies},
	{"GET /cairn/policies/{policyName}", "GetPolicy", (*Server).getPolicy},
	{"DELETE /cairn/policies/{policyName}", "DeletePolicy", (*Server).deletePolicy},
	{"GET /cairn/compliance", "GetCompliance", (*Server).getCompliance},
	{"GET /cairn/cluster", "GetCluster", (*Server).getCluster},
	{"GET /cairn/backup-jobs/{backupJobId}/progress", "GetBackupJobProgress", (*Server).backupJobProgress},
	{"GET /cairn/restore-jobs/{restoreJobId}/progress", "GetRestoreJobProgress", (*Server).restoreJobProgress},
	{"GET /cairn/verify/vaults/{backupVaultName}", "VerifyVault", (*Server).verifyVault},
	{"GET /cairn/verify/vaults/{backupVaultName}/recovery-points/{recoveryPointArn}", "VerifyRecoveryPoint", (*Server).verifyRecoveryPoint},
	{"GET /cairn/frameworks/{frameworkName}/evaluation", "EvaluateFramework", (*Server).evaluateFramework},

	// cairn's own notification targets (notifytargets.go).
	{"PUT /cairn/notification-targets/{targetName}", "CreateNotificationTarget", (*Server).createNotificationTarget},
	{"GET /cairn/notification-targets", "ListNotificationTargets", (*Server).listNotificationTargets},
	{"GET /cairn/notification-targets/{targetName}", "GetNotificationTarget", (*Server).getNotificationTarget},
	{"DELETE /cairn/notification-targets/{targetName}", "DeleteNotificationTarget", (*Server).deleteNotificationTarget},
}

// dispatch hands an authenticated request to its operation. A path that is
// not clean (an empty, "." or ".." segment, which the signature check
// allows: botocore signs such a path normalised) is answered here with an
// AWS error: ServeMux would answer it with a redirect to the cleaned path
// and an HTML body, and serving the cleaned path would run another
// operation than the one asked for.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, reqID string) {
	if p := r.URL.EscapedPath(); cleanPath(p) != p {
		s.writeError(w, r, "", reqID, invalidParam("the request path %q has an empty, \".\" or \"..\" segment; "+
			"a path member (a vault name, an id or an ARN) cannot be empty, \".\" or \"..\"", p))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath returns p as net/http's ServeMux cleans it before matching: a
// leading '/', no empty, "." or ".." segments, a trailing '/' kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}
