package cfn

import (
	"fmt"
	"slices"
	"strings"
)

// Dependencies returns, for every resource, the logical IDs it depends on:
// its DependsOn plus every resource its properties refer to with Ref,
// Fn::GetAtt or Fn::Sub (both branches of Fn::If count, as in
// CloudFormation). A resource that refers to itself lists itself. The lists
// are sorted.
func (t *Template) Dependencies() map[string][]string {
	deps := make(map[string][]string, len(t.Resources))
	for id, r := range t.Resources {
		set := map[string]bool{}
		for _, d := range r.DependsOn {
			set[d] = true
		}
		t.references(r.Properties, set)
		deps[id] = sortedKeys(set)
	}
	return deps
}

// Order returns the resources' logical IDs so that every resource comes
// after the ones it depends on; among independent resources, by name. A
// dependency cycle is an error that names the resources in it.
func (t *Template) Order() ([]string, error) {
	deps := t.Dependencies()
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var order, stack []string
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case done:
			return nil
		case visiting:
			i := slices.Index(stack, id)
			cycle := append(slices.Clone(stack[i:]), id)
			return fmt.Errorf("circular dependency between resources: %s; remove one of these references or DependsOn", strings.Join(cycle, " -> "))
		}
		state[id] = visiting
		stack = append(stack, id)
		for _, d := range deps[id] {
			if err := visit(d); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
		order = append(order, id)
		return nil
	}
	for _, id := range sortedKeys(t.Resources) {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return order, nil
}
