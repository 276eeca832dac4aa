package dataset

import "io"

// Datastore is a Source that keeps its observations in storage, typically
// on disk, and reads each one when it is asked for, so that a set larger
// than memory can be trained on. MATLAB calls such a source a datastore;
// InMemory is the in-memory counterpart, which needs no Close.
//
// A datastore is an ordinary Source: Len and Schema are known once it is
// opened (opening reads an index of the observations, such as a targets
// file, and no more of the observations than it needs to learn the Schema),
// and Observation(i) reads
// observation i on demand. Each call returns data the caller owns, freshly
// read, so that the caller may keep or drop it without pinning storage in
// the datastore. Read errors, and data found to be malformed only when it is
// read, are returned by Observation and name the file, line and column at
// fault; a Batcher passes them on and stops the epoch.
//
// A datastore should also implement Prefetcher. Prefetch is a hint, not a
// request: the Batcher calls it with the indices of the next mini-batch
// while the current one trains, and the datastore may start reading them in
// the background into a bounded read-ahead cache, from which the following
// Observation calls take them. Prefetch returns nothing, ignores indices out
// of range, and may be ignored altogether; anything that goes wrong shows up
// when the observation is asked for. The bound on the cache is what keeps
// the memory a datastore uses independent of the size of the set. A
// datastore that can tell the length of a sequence without reading it, from
// an index say, should implement LengthSource too, or ordering batches by
// length reads every observation once.
//
// A datastore must be safe for concurrent use, because a Batcher may serve
// several epochs from different goroutines. Close stops any background
// reading and releases what the datastore holds; Observation fails after
// Close, and Close may be called more than once.
type Datastore interface {
	Source
	io.Closer
}

var (
	_ Datastore  = (*CSVFolder)(nil)
	_ Prefetcher = (*CSVFolder)(nil)
)
