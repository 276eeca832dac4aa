package optim_test

import (
	"math"
	"strings"
	"testing"

	"github.com/seqgraph/seqgraph/optim"
)

func TestOptionNotApplicable(t *testing.T) {
	for _, tc := range []struct {
		solver string
		opt    optim.Option
		name   string
	}{
		{"sgdm", optim.WithBetas(0.9, 0.99), "WithBetas"},
		{"sgdm", optim.WithEpsilon(1e-8), "WithEpsilon"},
		{"sgdm", optim.WithSquaredGradientDecay(0.9), "WithSquaredGradientDecay"},
		{"sgdm", optim.WithInitialAccumulator(0.1), "WithInitialAccumulator"},
		{"adam", optim.WithMomentum(0.9), "WithMomentum"},
		{"adam", optim.WithSquaredGradientDecay(0.9), "WithSquaredGradientDecay"},
		{"adam", optim.WithInitialAccumulator(0.1), "WithInitialAccumulator"},
		{"rmsprop", optim.WithMomentum(0.9), "WithMomentum"},
		{"rmsprop", optim.WithBetas(0.9, 0.99), "WithBetas"},
		{"rmsprop", optim.WithInitialAccumulator(0.1), "WithInitialAccumulator"},
		{"adagrad", optim.WithMomentum(0.9), "WithMomentum"},
		{"adagrad", optim.WithBetas(0.9, 0.99), "WithBetas"},
		{"adagrad", optim.WithSquaredGradientDecay(0.9), "WithSquaredGradientDecay"},
	} {
		s, err := newSolver(tc.solver, optim.WithLearnRate(0.1), tc.opt)
		if err == nil {
			t.Errorf("%s with %s: no error", tc.solver, tc.name)
			continue
		}
		if s != nil && !isNilSolver(s) {
			t.Errorf("%s with %s: non-nil solver returned with error", tc.solver, tc.name)
		}
		if msg := err.Error(); !strings.Contains(msg, tc.name) || !strings.Contains(msg, tc.solver) {
			t.Errorf("%s with %s: error %q does not name the option and the solver", tc.solver, tc.name, msg)
		}
	}
}

// isNilSolver reports whether s holds a nil pointer.
func isNilSolver(s solver) bool {
	switch s := s.(type) {
	case *optim.SGDM:
		return s == nil
	case *optim.Adam:
		return s == nil
	case *optim.RMSProp:
		return s == nil
	case *optim.Adagrad:
		return s == nil
	}
	return false
}

func TestInvalidOptions(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		solver string
		opt    optim.Option
		want   string // part of the error message
	}{
		{"sgdm", optim.WithLearnRate(-0.1), "learn rate"},
		{"adam", optim.WithLearnRate(nan), "learn rate"},
		{"rmsprop", optim.WithLearnRate(inf), "learn rate"},
		{"sgdm", optim.WithMomentum(-0.1), "momentum"},
		{"sgdm", optim.WithMomentum(1), "momentum"},
		{"sgdm", optim.WithMomentum(nan), "momentum"},
		{"adam", optim.WithBetas(1, 0.999), "beta1"},
		{"adam", optim.WithBetas(-0.5, 0.999), "beta1"},
		{"adam", optim.WithBetas(0.9, 1), "beta2"},
		{"adam", optim.WithBetas(0.9, nan), "beta2"},
		{"adam", optim.WithEpsilon(-1e-8), "epsilon"},
		{"adam", optim.WithEpsilon(0), "epsilon"},
		{"rmsprop", optim.WithEpsilon(nan), "epsilon"},
		{"adagrad", optim.WithEpsilon(inf), "epsilon"},
		{"rmsprop", optim.WithSquaredGradientDecay(1), "squared gradient decay"},
		{"rmsprop", optim.WithSquaredGradientDecay(-0.1), "squared gradient decay"},
		{"adagrad", optim.WithInitialAccumulator(-0.1), "initial accumulator"},
		{"adagrad", optim.WithInitialAccumulator(nan), "initial accumulator"},
		{"sgdm", optim.WithL2Regularization(-1), "L2 regularization"},
		{"adam", optim.WithL2Regularization(nan), "L2 regularization"},
		{"adam", optim.WithGradientThreshold(optim.GlobalL2Norm, 0), "gradient threshold"},
		{"adam", optim.WithGradientThreshold(optim.L2Norm, -1), "gradient threshold"},
		{"adam", optim.WithGradientThreshold(optim.AbsoluteValue, nan), "gradient threshold"},
		{"adam", optim.WithGradientThreshold(0, 1), "threshold method"},
		{"adam", optim.WithGradientThreshold(optim.ThresholdMethod(7), 1), "threshold method"},
		{"adam", nil, "nil"},
	} {
		_, err := newSolver(tc.solver, tc.opt)
		if err == nil {
			t.Errorf("%s: no error for invalid %s", tc.solver, tc.want)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "optim: "+tc.solver+": ") {
			t.Errorf("%s: error %q does not explain the invalid %s", tc.solver, msg, tc.want)
		}
	}
}

func TestValidOptionEdges(t *testing.T) {
	for _, tc := range []struct {
		solver string
		opt    optim.Option
	}{
		{"sgdm", optim.WithLearnRate(0)},
		{"sgdm", optim.WithMomentum(0)},
		{"adam", optim.WithBetas(0, 0)},
		{"rmsprop", optim.WithSquaredGradientDecay(0)},
		{"adagrad", optim.WithInitialAccumulator(0)},
		{"adagrad", optim.WithL2Regularization(0)},
		{"adam", optim.WithGradientThreshold(optim.GlobalL2Norm, math.Inf(1))},
	} {
		if _, err := newSolver(tc.solver, tc.opt); err != nil {
			t.Errorf("%s: unexpected error: %v", tc.solver, err)
		}
	}
}
