// Package options records which named options a layer or a cell was given,
// so that giving one an option it does not take is an error naming both.
// Package graph's layer options and package rnn's cell options share it:
// each option sets a value in its config and marks its name; the
// constructor checks the names against those the layer or cell takes.
package options

import (
	"slices"

	"github.com/pkg/errors"
)

// Given is the set of the options given, by name.
type Given map[string]bool

// Mark records that the option called name was given.
func (g *Given) Mark(name string) {
	if *g == nil {
		*g = make(Given)
	}
	(*g)[name] = true
}

// Has reports whether the option called name was given.
func (g Given) Has(name string) bool { return g[name] }

// Check returns an error naming the first given option, in order of name,
// that is not among accepted: "<what> does not take a <option>".
func (g Given) Check(what string, accepted ...string) error {
	names := make([]string, 0, len(g))
	for name := range g {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(accepted, name) {
			return errors.Errorf("%s does not take a %s", what, name)
		}
	}
	return nil
}
