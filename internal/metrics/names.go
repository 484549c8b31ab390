package metrics

import (
	"regexp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// recordingRegisterer registers on the registry and remembers what it
// registered, so that MetricNames knows every metric whether it has a
// sample yet or not.
type recordingRegisterer struct {
	reg *prometheus.Registry
	mu  sync.Mutex
	cs  []prometheus.Collector
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	r.cs = append(r.cs, c)
	r.mu.Unlock()
	return nil
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func (r *recordingRegisterer) Unregister(c prometheus.Collector) bool {
	if !r.reg.Unregister(c) {
		return false
	}
	r.mu.Lock()
	r.cs = slices.DeleteFunc(r.cs, func(x prometheus.Collector) bool { return x == c })
	r.mu.Unlock()
	return true
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// MetricNames lists the name of every metric registered (cairn's, the Go
// and process collectors', and those registered on Registerer), sorted,
// whether it has a sample yet or not. Histograms are listed by their base
// name. Tests check docs, alerting rules and dashboards against it.
func (m *Metrics) MetricNames() []string {
	m.rr.mu.Lock()
	cs := slices.Clone(m.rr.cs)
	m.rr.mu.Unlock()
	var names []string
	for _, c := range cs {
		ch := make(chan *prometheus.Desc)
		go func() {
			c.Describe(ch)
			close(ch)
		}()
		for d := range ch {
			if mm := fqName.FindStringSubmatch(d.String()); mm != nil {
				names = append(names, mm[1])
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
