package blob

import (
	"context"
	"errors"
)

// StandardClass is the storage class of an object a store keeps in no
// particular class, and of every object of a store without classes.
const StandardClass = "STANDARD"

// ErrArchived is returned (wrapped) by Get for an object kept in an archive
// storage class (S3 GLACIER, DEEP_ARCHIVE) that must be restored before it
// can be read.
var ErrArchived = errors.New("blob: object is archived and must be restored before it can be read")

// ErrNoClasses is returned (wrapped) by a ClassSetter whose objects have no
// storage classes after all: a wrapper that implements ClassSetter around a
// store that does not.
var ErrNoClasses = errors.New("blob: store has no storage classes")

// ClassInfo is what a ClassSetter reports of an object.
type ClassInfo struct {
	Size int64
	// Class is the storage class the store reports for the object;
	// StandardClass when it names none.
	Class string
	// MD5 is the hex MD5 of the object's bytes when the store knows it
	// (S3: the ETag of an object stored in one part); empty otherwise.
	MD5 string
}

// ClassSetter is the optional capability of stores whose objects have
// storage classes (S3). Callers find it with a type assertion.
type ClassSetter interface {
	// SetClass rewrites the object at key in place, in storage class
	// class, keeping its bytes; ErrNotFound if absent. It is idempotent.
	// A store may accept a class and keep the object as it was (some
	// S3-compatible servers ignore classes): check with ClassInfo.
	SetClass(ctx context.Context, key, class string) error
	// ClassInfo returns the object's size, class and MD5; ErrNotFound if
	// absent.
	ClassInfo(ctx context.Context, key string) (ClassInfo, error)
}
