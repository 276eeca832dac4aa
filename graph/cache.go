package graph

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/graph/internal/nodeindex"
)

// programCache holds a network's compiled programs, a pool of them per key
// (batch shape and use). A program is one compiled graph with the buffers
// of its runs (its input tensors, its values, and the state of ops such as
// the fused LSTM, which keep what their backward pass reads), so it runs
// for one goroutine at a time; goroutines that run one shape at once each
// take a program of the pool, and one is compiled only when none is idle.
// Lookups take no lock shared by all keys: the pools are in a sync.Map, and
// each pool's idle programs in a channel.
type programCache struct {
	size  int // keys kept
	pools sync.Map
	count atomic.Int64
	clock atomic.Int64 // uses, for least-recently-used eviction
	evict sync.Mutex   // one eviction at a time

	compiled  atomic.Int64
	compiling atomic.Int64 // nanoseconds spent building and compiling
	// compile serializes compilation: Gorgonia's NewTapeMachine (for
	// Activations) writes to the values of the input nodes, which the
	// weight tensors are.
	compile sync.Mutex
}

// programPool is the programs of one key.
type programPool struct {
	key     programKey
	idle    chan *program
	lastUse atomic.Int64
	evicted atomic.Bool
}

func newProgramCache(size int) *programCache { return &programCache{size: size} }

// idlePrograms is how many idle programs a pool keeps: enough for a
// goroutine per core and then some; others are released when returned.
func idlePrograms() int { return 2 * runtime.GOMAXPROCS(0) }

// acquire returns a program for key that no other goroutine runs: an idle
// one from the cache, or one newly built and compiled. Give it back with
// release when its values have been read.
func (n *Network) acquire(key programKey) (*program, error) {
	c := n.cache
	pool := c.pool(n, key)
	pool.lastUse.Store(c.clock.Add(1))
	select {
	case p := <-pool.idle:
		return p, nil
	default:
	}
	start := time.Now()
	defer func() { c.compiling.Add(int64(time.Since(start))) }()
	p, err := n.buildAndCompile(key, true)
	if err != nil {
		return nil, err
	}
	c.compiled.Add(1)
	p.pool = pool
	return p, nil
}

// buildAndCompile builds and compiles key's program. With primed, the
// graph's node lookups run on a primed index (see nodeindex), without
// which building and differentiating take time quadratic in the graph's
// size; when Gorgonia removed a node on the way, the index may have led
// its lookups astray, and the program is built again unprimed.
func (n *Network) buildAndCompile(key programKey, primed bool) (*program, error) {
	g := gorgonia.NewGraph()
	var ix *nodeindex.Index
	if primed {
		ix, _ = nodeindex.Prime(g, nodesPerStep*key.steps*len(n.layers)+minReserve)
	}
	p, err := n.build(g, key)
	if err == nil && ix != nil {
		// Differentiating adds a few nodes for each node of the forward graph.
		ix.Reserve(gradientNodes * ix.Nodes())
	}
	if err == nil {
		p.optimize = !n.plain
		n.cache.compile.Lock()
		err = p.compile()
		n.cache.compile.Unlock()
	}
	if ix != nil && !ix.Intact() {
		n.params.Forget(g)
		return n.buildAndCompile(key, false)
	}
	if err != nil {
		n.params.Forget(g)
		return nil, err
	}
	if ix != nil {
		ix.Trim()
	}
	return p, nil
}

// The primed index's reserve: a guess of the nodes a layer adds at a
// timestep, and of the nodes differentiation adds for a forward node.
// A short guess costs only time (the lookups past it scan), a long one the
// memory of its entries.
const (
	nodesPerStep  = 48
	gradientNodes = 3
	minReserve    = 1024
)

// release gives a program back to its pool, or frees it when the pool is
// full or was evicted.
func (n *Network) release(p *program) {
	if p == nil {
		return
	}
	p.reset()
	if !p.pool.evicted.Load() {
		select {
		case p.pool.idle <- p:
			if !p.pool.evicted.Load() {
				return
			}
			// Evicted meanwhile, perhaps after its idle programs were
			// freed: free what is idle now.
			n.cache.freeIdle(n, p.pool)
			return
		default:
		}
	}
	n.params.Forget(p.g)
	p.close()
}

// freeIdle frees the idle programs of pool.
func (c *programCache) freeIdle(n *Network, pool *programPool) {
	for {
		select {
		case p := <-pool.idle:
			n.params.Forget(p.g)
			p.close()
		default:
			return
		}
	}
}

// pool returns the pool of key, made on first use; making one beyond the
// cache's size evicts the least recently used.
func (c *programCache) pool(n *Network, key programKey) *programPool {
	if v, ok := c.pools.Load(key); ok {
		return v.(*programPool)
	}
	v, loaded := c.pools.LoadOrStore(key, &programPool{key: key, idle: make(chan *program, idlePrograms())})
	if !loaded && c.count.Add(1) > int64(c.size) {
		c.evictOldest(n, key)
	}
	return v.(*programPool)
}

// evictOldest drops the least recently used pool other than keep, and
// frees its idle programs; programs in use are freed when released.
func (c *programCache) evictOldest(n *Network, keep programKey) {
	c.evict.Lock()
	defer c.evict.Unlock()
	var oldest *programPool
	c.pools.Range(func(_, v any) bool {
		p := v.(*programPool)
		if p.key != keep && (oldest == nil || p.lastUse.Load() < oldest.lastUse.Load()) {
			oldest = p
		}
		return true
	})
	if oldest == nil || c.count.Load() <= int64(c.size) {
		return
	}
	c.pools.Delete(oldest.key)
	c.count.Add(-1)
	oldest.evicted.Store(true)
	c.freeIdle(n, oldest)
}
