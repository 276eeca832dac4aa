//go:build !linux

package nodes

// physicalMemory returns 0: the machine's memory is not known here, and
// only sizes beyond maxLearnableValues are refused.
func physicalMemory() uint64 { return 0 }
