package nodes

import (
	"math"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// maxLearnableValues bounds a learnable's size where the machine's memory
// is not known: 2^40 values, far beyond any machine, so that only sizes
// whose byte count would overflow are refused there.
const maxLearnableValues = 1 << 40

// CheckSizes refuses, before any is created, learnables whose values
// cannot be allocated together: a shape whose size overflows, or learnables
// that need more bytes than the machine has memory. Creating a learnable
// needs its tensor and a float64 buffer of initial values, and Go would
// panic (len out of range) or the process die of out-of-memory rather than
// return an error. Learnables the store holds already are not counted. A
// layer with several learnables checks them all at once, so that a layer
// too large fails before it allocates its first.
func (p *Params) CheckSizes(names []string, shapes []tensor.Shape) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.checkSizes(names, shapes)
}

func (p *Params) checkSizes(names []string, shapes []tensor.Shape) error {
	if len(names) != len(shapes) {
		return errors.Errorf("nodes: params: %d names for %d shapes", len(names), len(shapes))
	}
	need := 0.0
	for i, shape := range shapes {
		if p.tensors[names[i]] != nil {
			continue
		}
		values := 1
		for _, d := range shape {
			if d <= 0 {
				return errors.Errorf("nodes: params: learnable %q: shape %v has a non-positive size", names[i], shape)
			}
			if values > maxLearnableValues/d {
				return errors.Errorf("nodes: params: learnable %q of shape %v has more than 2^40 values: it cannot be allocated", names[i], shape)
			}
			values *= d
		}
		need += float64(values) * float64(8+p.dtype.Size())
	}
	if p.budget > 0 && p.values+int(need/float64(8+p.dtype.Size())) > p.budget {
		return errors.Errorf("nodes: params: learnables %s of shapes %v would bring the store to more than its budget of %d values",
			strings.Join(names, ", "), shapes, p.budget)
	}
	if mem := physicalMemory(); mem > 0 && need > float64(mem) {
		return errors.Errorf("nodes: params: learnables %s of shapes %v need %.3g GiB to create, more than this machine's %.3g GiB of memory: they cannot be allocated (use fewer units)",
			strings.Join(names, ", "), shapes, need/math.Exp2(30), float64(mem)/math.Exp2(30))
	}
	return nil
}

// SetBudget bounds the number of values that the learnables of the store
// may hold in all (0: no bound, the default): creating one beyond it is an
// error, before anything is allocated. A reader of saved learnables sets it
// to what the file holds, so that a corrupt or hostile description cannot
// make it allocate more.
func (p *Params) SetBudget(values int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budget = values
}
