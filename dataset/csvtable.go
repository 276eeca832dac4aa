package dataset

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// TableOption configures ReadCSVSequences and ReadCSVSeries.
type TableOption func(*tableConfig)

type tableConfig struct {
	features []string // nil: every column that has no other role
	targets  []string
	id, time string
	names    []string // column names of a file without header
	delim    rune
}

// WithColumns chooses the feature columns, by name, in the order of the
// features of the sequences. By default every column is a feature except
// those chosen as ID, time or target; every feature must be a number on
// every row, so name the columns when the file has others, such as dates.
func WithColumns(names ...string) TableOption {
	names = append(make([]string, 0, len(names)), names...)
	return func(c *tableConfig) { c.features = names }
}

// WithTargetColumns chooses the columns, by name, that hold the targets:
// per-step labels or responses, or a per-sequence label or response
// repeated on every row of its sequence. See CSVSequences for the sets
// they make.
func WithTargetColumns(names ...string) TableOption {
	names = slices.Clone(names)
	return func(c *tableConfig) { c.targets = names }
}

// WithIDColumn names the column that says which sequence a row belongs
// to. Without it the whole file is one sequence.
func WithIDColumn(name string) TableOption {
	return func(c *tableConfig) { c.id = name }
}

// WithTimeColumn names a column by which the rows of each sequence are
// sorted: numerically if every value of the column is a number, lexically
// otherwise (which orders ISO dates such as 2024-01-31 right). Two rows of
// one sequence at the same time are an error. Without it rows keep the
// order of the file.
func WithTimeColumn(name string) TableOption {
	return func(c *tableConfig) { c.time = name }
}

// WithColumnNames says that the file has no header, and names its columns,
// which must then number as many as the fields of every row. By default
// the first row is a header of column names.
func WithColumnNames(names ...string) TableOption {
	names = append(make([]string, 0, len(names)), names...)
	return func(c *tableConfig) { c.names = names }
}

// WithDelimiter sets the character between fields; the default is a comma.
// A space stands for any run of spaces and tabs, with space at the ends of
// a line ignored, as in files written by numpy.savetxt or C programs (and
// then fields cannot be quoted); any other delimiter, such as ';' or '\t',
// is read as CSV, with RFC 4180 quoting.
func WithDelimiter(r rune) TableOption {
	return func(c *tableConfig) { c.delim = r }
}

func newTableConfig(opts []TableOption) (tableConfig, error) {
	c := tableConfig{delim: ','}
	for i, opt := range opts {
		if opt == nil {
			return c, errors.Errorf("dataset: option %d is nil", i)
		}
		opt(&c)
	}
	if c.delim != ' ' && (c.delim == '"' || c.delim == '\r' || c.delim == '\n' || !utf8.ValidRune(c.delim) || c.delim == utf8.RuneError) {
		return c, errors.Errorf("dataset: delimiter %q cannot separate fields", c.delim)
	}
	if c.names != nil {
		if len(c.names) == 0 {
			return c, errors.New("dataset: no column names")
		}
		seen := make(map[string]int, len(c.names))
		for j, name := range c.names {
			if j0, ok := seen[name]; ok {
				return c, errors.Errorf("dataset: column names %d and %d are both %q", j0+1, j+1, name)
			}
			seen[name] = j
		}
	}
	if c.features != nil && len(c.features) == 0 {
		return c, errors.New("dataset: no feature columns chosen")
	}
	return c, nil
}

// tableColumns is where each role of a tableConfig lies in the header.
type tableColumns struct {
	header          []string
	id, time        int // -1 if none
	features        []int
	targets         []int
	fromColumnNames bool // header given by WithColumnNames, for messages
}

// resolve finds the chosen columns in header.
func (c tableConfig) resolve(header []string) (tableColumns, error) {
	cols := tableColumns{header: header, id: -1, time: -1, fromColumnNames: c.names != nil}
	role := make(map[int]string) // column to the role it was chosen for
	pick := func(name, what string) (int, error) {
		j, err := findColumn(header, name, what)
		if err != nil {
			return -1, err
		}
		if role[j] != "" {
			return -1, errors.Errorf("column %q chosen both as %s and as %s", name, role[j], what)
		}
		role[j] = what
		return j, nil
	}
	var err error
	if c.id != "" {
		if cols.id, err = pick(c.id, "ID"); err != nil {
			return cols, err
		}
	}
	if c.time != "" {
		if cols.time, err = pick(c.time, "time"); err != nil {
			return cols, err
		}
	}
	for _, name := range c.targets {
		j, err := pick(name, "target")
		if err != nil {
			return cols, err
		}
		cols.targets = append(cols.targets, j)
	}
	for _, name := range c.features {
		j, err := pick(name, "feature")
		if err != nil {
			return cols, err
		}
		cols.features = append(cols.features, j)
	}
	if c.features == nil {
		for j := range header {
			if role[j] == "" {
				cols.features = append(cols.features, j)
			}
		}
		if len(cols.features) == 0 {
			return cols, errors.Errorf("no feature columns: every column of %s has another role", quoteList(header))
		}
	}
	return cols, nil
}

// findColumn returns the index of the column called name in header, which
// must have exactly one; what says what the column is for, for messages.
func findColumn(header []string, name, what string) (int, error) {
	var at []int
	for j, h := range header {
		if h == name {
			at = append(at, j)
		}
	}
	switch {
	case len(at) == 0:
		return -1, errors.Errorf("unknown %s column %q; the columns are %s", what, name, quoteList(header))
	case len(at) > 1:
		return -1, errors.Errorf("%s column %q is ambiguous: the header has it as columns %s", what, name, joinInts(at, 1))
	}
	return at[0], nil
}

// describe names column j for messages: its number, 1-based, and name.
func (cols tableColumns) describe(j int) string {
	return fmt.Sprintf("column %d (%s)", j+1, cols.header[j])
}

// names returns the names of the columns at js.
func (cols tableColumns) names(js []int) []string {
	out := make([]string, len(js))
	for k, j := range js {
		out[k] = cols.header[j]
	}
	return out
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for k, n := range names {
		q[k] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func joinInts(s []int, add int) string {
	q := make([]string, len(s))
	for k, v := range s {
		q[k] = strconv.Itoa(v + add)
	}
	return strings.Join(q, " and ")
}

// CSVSequences is a table of sequences read by ReadCSVSequences: the
// features of every sequence, and the text of its target columns, row by
// row, from which the set methods make an InMemory set for a task:
//
//	Unlabeled           no targets
//	StepRegression      target columns are numbers, per timestep
//	Regression          target columns are numbers, the same on every row of a sequence
//	StepClassification  one target column of class labels, per timestep
//	Classification      one target column of class labels, the same on every row of a sequence
//
// Errors of the set methods name the file, line and column at fault.
type CSVSequences struct {
	// IDs holds the ID of each sequence, as text, in the order of first
	// appearance in the file; it is nil for a file read without an ID
	// column, which is one sequence.
	IDs []string
	// Sequences holds the features of each sequence, in the order of
	// FeatureNames; row t of a sequence is its t-th row in the file, or in
	// time order with WithTimeColumn.
	Sequences    []Sequence
	FeatureNames []string
	TargetNames  []string

	path    string
	cols    tableColumns
	targets [][]string // per sequence, T×len(TargetNames) row-major
	lines   [][]int    // per sequence, the line of every timestep
}

// ReadCSVSeries reads a file that holds one time series, one timestep per
// row, such as a column of monthly values beside their dates, as one
// Sequence of the feature columns (WithColumns, by default all). It takes
// the options of ReadCSVSequences but for the ID and target columns: use
// ReadCSVSequences for those.
func ReadCSVSeries(path string, opts ...TableOption) (Sequence, error) {
	c, err := newTableConfig(opts)
	if err != nil {
		return Sequence{}, err
	}
	if c.id != "" || c.targets != nil {
		return Sequence{}, errors.Errorf("dataset: %s: ReadCSVSeries reads one series of features; use ReadCSVSequences for ID and target columns", path)
	}
	t, err := readCSVTable(path, c)
	if err != nil {
		return Sequence{}, err
	}
	return t.Sequences[0], nil
}

// ReadCSVSequences reads a table of sequences, one timestep per row, one
// column per variable, such as the usual layout of sensor recordings:
//
//	id,time,x1,x2,label
//	a,0,0.1,1.5,walk
//	a,1,0.2,1.4,walk
//	b,0,0.3,1.1,run
//
// The first row is a header of column names, unless WithColumnNames names
// the columns of a file without one; columns are chosen by those names:
// WithIDColumn groups rows into sequences by their ID, in order of first
// appearance (the rows of a sequence need not be contiguous), WithTimeColumn
// orders the rows of each sequence, WithTargetColumns picks the targets and
// WithColumns the features, by default all the other columns. Fields are
// separated by commas (see WithDelimiter) with RFC 4180 quoting; space
// around a field, blank lines and a UTF-8 byte order mark are ignored.
// Columns that are not chosen may hold anything.
//
// Errors name the file and say what is wrong, and where, by line and
// column: an empty file, a header without rows, an unknown column name
// (listing those that exist), a row with more or fewer fields than the
// header, a feature that is not a finite number, an empty ID, time or
// target.
func ReadCSVSequences(path string, opts ...TableOption) (*CSVSequences, error) {
	c, err := newTableConfig(opts)
	if err != nil {
		return nil, err
	}
	return readCSVTable(path, c)
}

func readCSVTable(path string, c tableConfig) (*CSVSequences, error) {
	t, err := parseFile(path, func(r io.Reader) (*CSVSequences, error) { return parseCSVTable(r, c) })
	if err != nil {
		return nil, err
	}
	t.path = path
	return t, nil
}

// parseFile opens the file at path and parses it with parse, naming the
// file in errors.
func parseFile[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, errors.Wrap(err, "dataset")
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return zero, errors.Wrapf(err, "dataset: %s", path)
	}
	return v, nil
}

// recordReader yields the non-blank records of a table with the line each
// starts on, and io.EOF at the end.
type recordReader func() ([]string, int, error)

// newRecordReader reads delimited records from r: CSV, or runs of space
// and tabs for a delimiter of ' '.
func newRecordReader(r io.Reader, delim rune) recordReader {
	if delim != ' ' {
		cr := newCSVReader(r)
		cr.Comma = delim
		return func() ([]string, int, error) {
			for {
				rec, err := cr.Read()
				if err != nil {
					var pe *csv.ParseError
					if errors.As(err, &pe) {
						// Its message names the line already.
						return nil, 0, errors.New(pe.Error())
					}
					return nil, 0, err
				}
				if !blankRecord(rec) {
					line, _ := cr.FieldPos(0)
					return rec, line, nil
				}
			}
		}
	}
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	line := 0
	return func() ([]string, int, error) {
		for {
			s, err := br.ReadString('\n')
			if s == "" && err != nil {
				return nil, 0, err
			}
			line++
			if rec := strings.Fields(s); len(rec) > 0 {
				return rec, line, nil
			}
		}
	}
}

// tableGroup collects the rows of one sequence.
type tableGroup struct {
	data    []float64
	targets []string
	times   []string
	lines   []int
}

// parseCSVTable reads a table as ReadCSVSequences describes. Errors say
// where, by line and column, but not which file: the caller knows.
func parseCSVTable(r io.Reader, c tableConfig) (*CSVSequences, error) {
	var cols tableColumns
	var ids []string
	groups := make(map[string]*tableGroup)
	start := func(header []string) (err error) {
		cols, err = c.resolve(header)
		return err
	}
	err := readRows(r, c.delim, c.names, start, func(rec []string, line int) error {
		id := ""
		if cols.id >= 0 {
			if id = strings.TrimSpace(rec[cols.id]); id == "" {
				return errors.Errorf("line %d, %s: empty ID", line, cols.describe(cols.id))
			}
		}
		g := groups[id]
		if g == nil {
			g = &tableGroup{}
			groups[id] = g
			ids = append(ids, id)
		}
		return g.add(rec, line, cols)
	})
	if err != nil {
		return nil, err
	}
	return newCSVSequences(ids, groups, cols)
}

// readRows reads a table of fields separated by delim: its header, unless
// names are given to name the columns of a file without one, which it
// passes to start, then every row, which it passes to row with its line
// after checking that it has a field per column. It fails for a file
// without rows.
func readRows(r io.Reader, delim rune, names []string, start func(header []string) error, row func(rec []string, line int) error) error {
	next := newRecordReader(r, delim)
	header, why := names, "as named by WithColumnNames"
	if header == nil {
		rec, line, err := next()
		if err == io.EOF {
			return errors.New("empty file: no header")
		}
		if err != nil {
			return err
		}
		header, why = make([]string, len(rec)), fmt.Sprintf("as in the header on line %d", line)
		for j, s := range rec {
			header[j] = strings.TrimSpace(s)
		}
	}
	if err := start(header); err != nil {
		return err
	}
	rows := 0
	for ; ; rows++ {
		rec, line, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(rec) != len(header) {
			return errors.Errorf("line %d has %d fields, want %d %s", line, len(rec), len(header), why)
		}
		if err := row(rec, line); err != nil {
			return err
		}
	}
	switch {
	case rows > 0:
		return nil
	case names != nil:
		return errors.New("empty file: no rows")
	}
	return errors.New("a header but no rows")
}

// add appends the row rec, from line, to g.
func (g *tableGroup) add(rec []string, line int, cols tableColumns) error {
	for _, j := range cols.features {
		v, err := parseValue(rec[j])
		if err != nil {
			return errors.Errorf("line %d, %s: %v", line, cols.describe(j), err)
		}
		g.data = append(g.data, v)
	}
	for _, j := range cols.targets {
		s := strings.TrimSpace(rec[j])
		if s == "" {
			return errors.Errorf("line %d, %s: empty target", line, cols.describe(j))
		}
		g.targets = append(g.targets, s)
	}
	if cols.time >= 0 {
		s := strings.TrimSpace(rec[cols.time])
		if s == "" {
			return errors.Errorf("line %d, %s: empty time", line, cols.describe(cols.time))
		}
		g.times = append(g.times, s)
	}
	g.lines = append(g.lines, line)
	return nil
}

// newCSVSequences makes the table of the groups, ordering their rows by
// time if there is a time column.
func newCSVSequences(ids []string, groups map[string]*tableGroup, cols tableColumns) (*CSVSequences, error) {
	numeric := cols.time >= 0
	for _, g := range groups {
		numeric = numeric && numericRecord(g.times)
	}
	f, r := len(cols.features), len(cols.targets)
	t := &CSVSequences{
		FeatureNames: cols.names(cols.features),
		TargetNames:  cols.names(cols.targets),
		cols:         cols,
	}
	if cols.id >= 0 {
		t.IDs = ids
	}
	for _, id := range ids {
		g := groups[id]
		if cols.time >= 0 {
			if err := g.sortByTime(numeric, f, r); err != nil {
				return nil, errors.Wrapf(err, "sequence %q, %s", id, cols.describe(cols.time))
			}
		}
		t.Sequences = append(t.Sequences, Sequence{Data: g.data, T: len(g.lines), F: f})
		t.targets = append(t.targets, g.targets)
		t.lines = append(t.lines, g.lines)
	}
	return t, nil
}

// sortByTime orders the rows of g, of f features and r targets, by time,
// as numbers if numeric, and fails if two rows have the same time.
func (g *tableGroup) sortByTime(numeric bool, f, r int) error {
	n := len(g.lines)
	key := make([]float64, n)
	if numeric {
		for i, s := range g.times {
			key[i], _ = strconv.ParseFloat(s, 64)
		}
	}
	cmp := func(a, b int) int {
		if numeric {
			switch {
			case key[a] < key[b]:
				return -1
			case key[a] > key[b]:
				return 1
			}
			return 0
		}
		return strings.Compare(g.times[a], g.times[b])
	}
	order := identity(make([]int, n))
	slices.SortStableFunc(order, cmp)
	for k := 1; k < n; k++ {
		if a, b := order[k-1], order[k]; cmp(a, b) == 0 {
			return errors.Errorf("lines %d and %d both have time %q", g.lines[a], g.lines[b], g.times[b])
		}
	}
	data := make([]float64, 0, len(g.data))
	targets := make([]string, 0, len(g.targets))
	lines := make([]int, 0, n)
	for _, i := range order {
		data = append(data, g.data[i*f:(i+1)*f]...)
		targets = append(targets, g.targets[i*r:(i+1)*r]...)
		lines = append(lines, g.lines[i])
	}
	g.data, g.targets, g.lines = data, targets, lines
	return nil
}

// Unlabeled returns the sequences as a set without targets, for prediction.
func (t *CSVSequences) Unlabeled() (*InMemory, error) {
	return NewUnlabeled(t.Sequences)
}

// StepRegression returns a sequence-to-sequence regression set: the
// response of each timestep is the vector of its target columns, which
// must be finite numbers.
func (t *CSVSequences) StepRegression() (*InMemory, error) {
	responses := make([]Sequence, len(t.Sequences))
	for i := range t.Sequences {
		data, err := t.numericTargets(i)
		if err != nil {
			return nil, err
		}
		responses[i] = Sequence{Data: data, T: len(t.lines[i]), F: len(t.TargetNames)}
	}
	return NewStepRegression(t.Sequences, responses)
}

// Regression returns a sequence-to-one regression set: the response of
// each sequence is the vector of its target columns, which must be finite
// numbers and the same on every row of the sequence.
func (t *CSVSequences) Regression() (*InMemory, error) {
	responses := make([][]float64, len(t.Sequences))
	r := len(t.TargetNames)
	for i := range t.Sequences {
		data, err := t.numericTargets(i)
		if err != nil {
			return nil, err
		}
		for s := 1; s < len(t.lines[i]); s++ {
			for k := range r {
				if data[s*r+k] != data[k] {
					return nil, t.notConstant(i, s, k)
				}
			}
		}
		responses[i] = data[:r:r]
	}
	return NewRegression(t.Sequences, responses)
}

// StepClassification returns a sequence-to-sequence classification set:
// the class of each timestep is the label in the one target column. The
// labels are numbered as EncodeLabels does, by classNames if not nil; the
// class names are returned.
func (t *CSVSequences) StepClassification(classNames []string) (*InMemory, []string, error) {
	if err := t.oneTarget(classNames); err != nil {
		return nil, nil, err
	}
	var flat []string
	start := make([]int, len(t.targets)+1)
	for i, ts := range t.targets {
		flat = append(flat, ts...)
		start[i+1] = len(flat)
	}
	codes, names, err := encodeLabels(flat, classNames, func(n int) string {
		i, _ := slices.BinarySearch(start, n+1)
		i--
		return t.where(i, n-start[i], 0)
	})
	if err != nil {
		return nil, nil, errors.Wrapf(err, "dataset: %s", t.path)
	}
	labels := make([][]int, len(t.targets))
	for i := range labels {
		labels[i] = codes[start[i]:start[i+1]]
	}
	set, err := NewStepClassification(t.Sequences, labels, len(names))
	return set, names, err
}

// Classification returns a sequence-to-label classification set: the
// class of each sequence is the label in the one target column, which must
// be the same on every row of the sequence. The labels are numbered as
// EncodeLabels does, by classNames if not nil; the class names are
// returned.
func (t *CSVSequences) Classification(classNames []string) (*InMemory, []string, error) {
	if err := t.oneTarget(classNames); err != nil {
		return nil, nil, err
	}
	first := make([]string, len(t.targets))
	for i, ts := range t.targets {
		for s, l := range ts {
			if l != ts[0] {
				return nil, nil, t.notConstant(i, s, 0)
			}
		}
		first[i] = ts[0]
	}
	codes, names, err := encodeLabels(first, classNames, func(i int) string { return t.where(i, 0, 0) })
	if err != nil {
		return nil, nil, errors.Wrapf(err, "dataset: %s", t.path)
	}
	set, err := NewClassification(t.Sequences, codes, len(names))
	return set, names, err
}

// where names target k of timestep s of sequence i by line and column.
func (t *CSVSequences) where(i, s, k int) string {
	return fmt.Sprintf("line %d, %s", t.lines[i][s], t.cols.describe(t.cols.targets[k]))
}

// numericTargets parses the targets of sequence i as numbers.
func (t *CSVSequences) numericTargets(i int) ([]float64, error) {
	if len(t.TargetNames) == 0 {
		return nil, errors.Errorf("dataset: %s: no target columns; choose them with WithTargetColumns", t.path)
	}
	r := len(t.TargetNames)
	out := make([]float64, len(t.targets[i]))
	for n, s := range t.targets[i] {
		v, err := parseValue(s)
		if err != nil {
			return nil, errors.Errorf("dataset: %s: %s: %v", t.path, t.where(i, n/r, n%r), err)
		}
		out[n] = v
	}
	return out, nil
}

// oneTarget checks that t has exactly one target column, of class labels,
// and that classNames are valid if given.
func (t *CSVSequences) oneTarget(classNames []string) error {
	switch len(t.TargetNames) {
	case 0:
		return errors.Errorf("dataset: %s: no target column; choose the column of class labels with WithTargetColumns", t.path)
	case 1:
		return checkClassNamesIfAny(classNames)
	}
	return errors.Errorf("dataset: %s: target columns %s, want one column of class labels", t.path, quoteList(t.TargetNames))
}

// notConstant is the error for target k of sequence i differing on
// timestep s from timestep 0, where a per-sequence target is wanted.
func (t *CSVSequences) notConstant(i, s, k int) error {
	id := "the file's sequence"
	if t.IDs != nil {
		id = fmt.Sprintf("sequence %q", t.IDs[i])
	}
	r := len(t.TargetNames)
	return errors.Errorf("dataset: %s: %s: %s has target %q, but %q on line %d; a per-sequence target must be the same on every row (use the Step methods for per-step targets)",
		t.path, t.where(i, s, k), id, t.targets[i][s*r+k], t.targets[i][k], t.lines[i][0])
}

// ReadCSVColumns reads the named columns of a CSV file with a header, as
// text, such as the documents and categories of a text classification set:
// out[k][i] is the field of column names[k] on row i. Fields are read as
// ReadCSVSequences reads them (RFC 4180 quoting, a byte order mark and
// blank lines ignored) and trimmed of surrounding space; they may hold
// anything, commas and line breaks too when quoted. Errors name the file,
// and the line of a row with more or fewer fields than the header.
func ReadCSVColumns(path string, names ...string) ([][]string, error) {
	return parseFile(path, func(r io.Reader) ([][]string, error) { return parseCSVColumns(r, names) })
}

func parseCSVColumns(r io.Reader, names []string) ([][]string, error) {
	if len(names) == 0 {
		return nil, errors.New("no columns named")
	}
	cols := make([]int, len(names))
	start := func(header []string) (err error) {
		for k, name := range names {
			if cols[k], err = findColumn(header, name, "text"); err != nil {
				return err
			}
		}
		return nil
	}
	out := make([][]string, len(names))
	err := readRows(r, ',', nil, start, func(rec []string, _ int) error {
		for k, j := range cols {
			out[k] = append(out[k], strings.TrimSpace(rec[j]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
