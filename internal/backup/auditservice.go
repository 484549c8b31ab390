package backup

import "context"

// ProtectedResourceService answers which resources are protected: those
// with a COMPLETED recovery point.
type ProtectedResourceService interface {
	// DescribeProtectedResource returns the resource with its latest
	// COMPLETED recovery point; ErrNotFound if it has none.
	DescribeProtectedResource(ctx context.Context, resourceARN string) (*ProtectedResource, error)
	// ListProtectedResourcesByVault lists the resources with a COMPLETED
	// point in the vault, each with its latest one there; ErrNotFound if
	// the vault does not exist.
	ListProtectedResourcesByVault(ctx context.Context, vault string, p Page) ([]*ProtectedResource, string, error)
}

// CreateFrameworkInput asks for a new Audit Manager framework.
type CreateFrameworkInput struct {
	Name             string
	Description      string
	Controls         []FrameworkControl
	IdempotencyToken string
	Tags             map[string]string
}

// UpdateFrameworkInput changes a framework. A nil Description or Controls
// keeps the framework's.
type UpdateFrameworkInput struct {
	Name             string
	Description      *string
	Controls         []FrameworkControl
	IdempotencyToken string
}

// FrameworkService manages Audit Manager frameworks and evaluates them.
// Frameworks are validated (ValidateFrameworkName, ValidateFrameworkControls)
// before anything is stored.
type FrameworkService interface {
	// CreateFramework stores a framework. A retry with the IdempotencyToken
	// of the request that created it, and the same parameters, returns it.
	CreateFramework(ctx context.Context, in CreateFrameworkInput) (*Framework, error)
	GetFramework(ctx context.Context, name string) (*Framework, error)
	ListFrameworks(ctx context.Context, p Page) ([]*Framework, string, error)
	UpdateFramework(ctx context.Context, in UpdateFrameworkInput) (*Framework, error)
	DeleteFramework(ctx context.Context, name string) error
	// EvaluateFramework evaluates the framework's controls now: per
	// control, per resource, COMPLIANT or NON_COMPLIANT with a reason.
	EvaluateFramework(ctx context.Context, name string) (*FrameworkEvaluation, error)
}
