package backup

import "slices"

// PlanSelections is a plan with its selections, as Resolve and Explain take
// them.
type PlanSelections struct {
	Plan       *BackupPlan
	Selections []*BackupSelection
}

// Assignment says that a plan protects a resource, through which selection.
type Assignment struct {
	Plan      *BackupPlan
	Selection *BackupSelection
	Resource  Resource
}

// Resolve returns which plans protect which resources: one Assignment for
// every (plan, resource) pair that at least one of the plan's selections
// covers, through the first such selection in the plan's order. Assignments
// come plan by plan in the order of plans, and within a plan in the order
// of resources. Deleted plans (DeletionDate set) protect nothing.
//
// Selections are compiled once and indexed by what a resource must have to
// be covered (a tag key=value from ListOfTags or StringEquals Conditions,
// or an exact ARN), so each resource is matched only against the
// selections that could cover it and those whose Resources hold wildcards.
func Resolve(plans []PlanSelections, resources []Resource) []Assignment {
	ix := newSelectionIndex(plans)
	perPlan := make([][]Assignment, len(plans))
	seen := make([]int, len(ix.sels))
	done := make([]int, len(plans))
	var cand []int32
	for ri := range resources {
		r := &resources[ri]
		stamp := ri + 1
		cand = cand[:0]
		add := func(ids []int32) {
			for _, id := range ids {
				if seen[id] != stamp {
					seen[id] = stamp
					cand = append(cand, id)
				}
			}
		}
		add(ix.always)
		add(ix.byARN[r.ARN])
		for k, v := range r.Tags {
			add(ix.byTag[tagPair{k, v}])
		}
		slices.Sort(cand)
		for _, id := range cand {
			e := &ix.sels[id]
			if done[e.plan] == stamp || !e.m.Covers(r) {
				continue
			}
			done[e.plan] = stamp
			perPlan[e.plan] = append(perPlan[e.plan], Assignment{Plan: plans[e.plan].Plan, Selection: e.m.sel, Resource: *r})
		}
	}
	var out []Assignment
	for _, a := range perPlan {
		out = append(out, a...)
	}
	return out
}

// selectionIndex finds the selections that might cover a resource.
type selectionIndex struct {
	sels   []indexedSelection // in plan order, then selection order
	byTag  map[tagPair][]int32
	byARN  map[string][]int32
	always []int32 // must be checked against every resource
}

type indexedSelection struct {
	plan int
	m    *SelectionMatcher
}

func newSelectionIndex(plans []PlanSelections) *selectionIndex {
	ix := &selectionIndex{byTag: map[tagPair][]int32{}, byARN: map[string][]int32{}}
	for pi, p := range plans {
		if p.Plan == nil || !p.Plan.DeletionDate.IsZero() {
			continue
		}
		for _, s := range p.Selections {
			id := int32(len(ix.sels))
			m := NewSelectionMatcher(s)
			ix.sels = append(ix.sels, indexedSelection{plan: pi, m: m})
			switch {
			case len(m.equals) > 0:
				// Every StringEquals must hold: the first one is a
				// tag the resource must have.
				ix.byTag[m.equals[0]] = append(ix.byTag[m.equals[0]], id)
			case !m.all && !hasWildcard(m.resources):
				// A candidate has one of these tags or ARNs.
				for _, t := range m.tags {
					ix.byTag[t] = append(ix.byTag[t], id)
				}
				for _, w := range m.resources {
					ix.byARN[w.pattern] = append(ix.byARN[w.pattern], id)
				}
			default:
				ix.always = append(ix.always, id)
			}
		}
	}
	// A selection listed twice under one key (a tag repeated in ListOfTags)
	// is deduplicated per resource by Resolve.
	return ix
}

func hasWildcard(ws []wildcard) bool {
	for _, w := range ws {
		if w.kind != wcExact {
			return true
		}
	}
	return false
}

// Explain says, for every selection of every plan that is not deleted,
// whether it covers r and why; a covering verdict lists the plan's rules,
// which back r up. Verdicts come in the order of plans and selections.
func Explain(plans []PlanSelections, r Resource) []SelectionVerdict {
	var out []SelectionVerdict
	for _, p := range plans {
		if p.Plan == nil || !p.Plan.DeletionDate.IsZero() {
			continue
		}
		for _, s := range p.Selections {
			ok, why := NewSelectionMatcher(s).Match(r)
			v := SelectionVerdict{
				BackupPlanID: p.Plan.ID, BackupPlanName: p.Plan.BackupPlanName, BackupPlanARN: p.Plan.ARN,
				VersionID: p.Plan.VersionID, SelectionID: s.SelectionID, SelectionName: s.SelectionName,
				Covered: ok, Reason: why,
			}
			if ok {
				v.Rules = slices.Clone(p.Plan.Rules)
			}
			out = append(out, v)
		}
	}
	return out
}
