package cluster

import "context"

// Crash stops the node as kill -9 would: the heartbeat stops and the
// session ends, and nothing is removed from the catalog.
func (c *Cluster) Crash() {
	close(c.stop)
	<-c.done
	c.closeConn()
}

// Beat runs one heartbeat now.
func (c *Cluster) Beat(ctx context.Context) { c.beat(ctx) }
