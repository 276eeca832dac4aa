package dataset

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/pkg/errors"
)

// Task says what the targets of a set are.
type Task int

const (
	// Classification gives each sequence one class label. It is the
	// default task of OpenCSVFolder.
	Classification Task = iota
	// Regression gives each sequence one vector of responses.
	Regression
	// Unlabeled gives sequences no target, for prediction.
	Unlabeled
)

// String returns the name of t in lower case.
func (t Task) String() string {
	switch t {
	case Classification:
		return "classification"
	case Regression:
		return "regression"
	case Unlabeled:
		return "unlabeled"
	}
	return fmt.Sprintf("Task(%d)", int(t))
}

func (t Task) valid() bool { return t == Classification || t == Regression || t == Unlabeled }

// headerMode says whether the first row of a sequence file is a header.
type headerMode int

const (
	// headerAuto takes the first row for a header if any of its fields is
	// not a number.
	headerAuto headerMode = iota
	headerNone
	headerPresent
)

const (
	defaultTargetsFile = "labels.csv"
	defaultReadAhead   = 64
)

// csvConfig holds the options of OpenCSVFolder.
type csvConfig struct {
	task          Task
	targets       string
	targetsSet    bool
	header        headerMode
	targetsHeader bool
	classNames    []string
	readAhead     int
	readers       int
}

// CSVOption configures OpenCSVFolder.
type CSVOption func(*csvConfig)

// WithTask sets what the targets file holds; the default is Classification.
func WithTask(t Task) CSVOption {
	return func(c *csvConfig) { c.task = t }
}

// WithTargetsFile sets the name of the targets file, relative to the folder
// unless it is absolute; the default is "labels.csv". A targets file outside
// the folder lets several sets, such as the folds of a cross-validation,
// share one folder of sequences.
func WithTargetsFile(name string) CSVOption {
	return func(c *csvConfig) { c.targets, c.targetsSet = name, true }
}

// WithHeader says whether the first row of every sequence file is a header
// of column names. Without it the first file decides: its first row is a
// header if any field of it is not a number, and every other file must then
// have the same header.
func WithHeader(present bool) CSVOption {
	return func(c *csvConfig) {
		c.header = headerNone
		if present {
			c.header = headerPresent
		}
	}
}

// WithTargetsHeader says whether the first line of the targets file is a
// header to skip; by default it is not. It is not detected, because class
// names may be any text and a header would pass for one more file.
func WithTargetsHeader(present bool) CSVOption {
	return func(c *csvConfig) { c.targetsHeader = present }
}

// WithClassNames fixes the classes of a classification set and their order:
// label names[k] is class k, and a label that is not among names is an
// error. Pass the ClassNames of the training set when opening a test set, so
// that a class missing from one split does not renumber the others.
func WithClassNames(names []string) CSVOption {
	names = slices.Clone(names)
	return func(c *csvConfig) { c.classNames = names }
}

// WithReadAhead sets the most observations that Prefetch holds read ahead;
// the default is 64. It bounds the memory of the datastore whatever the
// size of the set. Make it at least the batch size so that a whole batch can
// be read while the previous one trains; 0 turns reading ahead off.
func WithReadAhead(n int) CSVOption {
	return func(c *csvConfig) { c.readAhead = n }
}

// WithReadWorkers sets the number of goroutines that read ahead; the default
// is 1. Parsing text into numbers takes more time than reading it from disk,
// so more readers help when the batcher would otherwise wait for files, as
// long as there are processors to spare from training.
func WithReadWorkers(n int) CSVOption {
	return func(c *csvConfig) { c.readers = n }
}

func newCSVConfig(opts []CSVOption) (csvConfig, error) {
	c := csvConfig{targets: defaultTargetsFile, readAhead: defaultReadAhead, readers: 1}
	for i, opt := range opts {
		if opt == nil {
			return csvConfig{}, errors.Errorf("dataset: option %d is nil", i)
		}
		opt(&c)
	}
	switch {
	case !c.task.valid():
		return csvConfig{}, errors.Errorf("dataset: invalid task %v", c.task)
	case c.targets == "":
		return csvConfig{}, errors.New("dataset: empty targets file name")
	case c.readAhead < 0:
		return csvConfig{}, errors.Errorf("dataset: read-ahead %d, want at least 0", c.readAhead)
	case c.readers < 1:
		return csvConfig{}, errors.Errorf("dataset: %d read workers, want at least 1", c.readers)
	case c.classNames != nil && c.task != Classification:
		return csvConfig{}, errors.Errorf("dataset: class names given for a %v set", c.task)
	}
	if c.classNames != nil {
		if err := checkClassNames(c.classNames); err != nil {
			return csvConfig{}, err
		}
	}
	return c, nil
}

func checkClassNames(names []string) error {
	if len(names) == 0 {
		return errors.New("dataset: no class names")
	}
	seen := make(map[string]int, len(names))
	for k, name := range names {
		// Labels are read with surrounding space trimmed, and may not hold
		// control characters, so such a name could never match.
		if name == "" || name != strings.TrimSpace(name) || hasControl(name) {
			return errors.Errorf("dataset: class name %d is %q, want non-empty text without surrounding space, control characters or byte order mark", k, name)
		}
		if j, ok := seen[name]; ok {
			return errors.Errorf("dataset: class names %d and %d are both %q", j, k, name)
		}
		seen[name] = k
	}
	return nil
}

// CSVFolder is a Datastore of sequences kept one per CSV file in a folder,
// for sets too large to hold in memory. See OpenCSVFolder for the layout.
//
// Observation reads the file of an observation when it is asked for, unless
// Prefetch has read it ahead. Reading ahead happens on a background
// goroutine (or several, see WithReadWorkers), started by the first call to
// Prefetch, into a cache of at most WithReadAhead observations, counting
// those being read. An observation leaves the cache when Observation returns
// it, and observations that were prefetched but not asked for are dropped
// once more than twice the read-ahead of others have been, so that the
// memory held stays bounded whatever the order of requests. An Observation
// call that finds its observation still being read ahead reads the next
// queued one while it waits, so that reading ahead is never slower than
// reading on demand.
//
// A CSVFolder is safe for concurrent use. Call Close when done with it, to
// stop the read-ahead goroutines.
type CSVFolder struct {
	dir        string
	files      []string
	labels     []int     // nil unless classification
	responses  []float64 // [n, ResponseSize], nil unless regression
	classNames []string
	format     seqFormat // how every file is read, learnt from the first
	schema     Schema
	readAhead  int
	readers    int

	mu      sync.Mutex
	wake    sync.Cond // tells read-ahead goroutines that queue, cache or closed changed
	queue   []int     // indices to read ahead, in order
	cache   map[int]*cachedSeq
	served  uint64 // calls to Observation, the clock by which entries go stale
	started bool   // read-ahead goroutines are running
	closed  bool
	running sync.WaitGroup
	hits    int // Observation calls served from the cache, for tests
}

// cachedSeq is an observation read ahead, or being read: ready is closed,
// and done set, once seq and err are.
type cachedSeq struct {
	seq   Sequence
	err   error
	ready chan struct{}
	done  bool   // guarded by CSVFolder.mu, unlike ready
	stamp uint64 // served when it was last asked for by Prefetch
}

// OpenCSVFolder opens the folder dir as a set of sequences, one per CSV file,
// with their targets listed in a targets file in the folder.
//
// A sequence file holds one timestep per row and one feature per column,
// separated by commas, with RFC 4180 quoting as read by encoding/csv. Space
// around a value is ignored, as are blank lines and a UTF-8 byte order mark.
// Every value must be a finite number. The first row may be a header of
// column names (see WithHeader); all files must then have the same header,
// which FeatureNames returns. All files must have the same number of
// columns, the NumFeatures of the Schema.
//
// Each line of the targets file (default "labels.csv", see WithTargetsFile)
// names a sequence file and gives its target, as chosen by WithTask:
//
//	Classification (the default)  file,label
//	Regression                    file,r1,r2,...
//	Unlabeled                     file
//
// A label is any text, such as a class name or number. Every line of a
// regression set has the same number of finite responses. Columns after the
// file name of an unlabeled set are ignored, so that the targets file of a
// labelled set can serve for prediction.
//
// Observations are in the order of the targets file, blank lines aside.
// Files are named relative to dir and must lie directly in it. Files
// in the folder that the targets file does not list are ignored, so that
// splits can share a folder; a listed file that is missing is an error, as is
// a file listed twice. An Unlabeled set needs no targets file unless one is
// named by WithTargetsFile: without it, every file in dir whose name ends in
// ".csv" is a sequence, in lexical order of name.
//
// Class labels are text; class k is the k-th of the distinct labels in
// sorted order, numerical if every label is an integer (so that "10" comes
// after "9") and lexical otherwise, so that reordering the lines of the
// targets file does not renumber the classes. ClassNames returns them in
// that order; WithClassNames fixes them instead.
//
// Opening reads the targets file, lists the folder and reads the header and
// first row of the first sequence file, to learn the number of features.
// Any other error in a sequence file, such as a ragged row, a value that is
// not a finite number, an empty file or a number of features that differs
// from the first file's, is reported by Observation, naming the file, line
// and column.
func OpenCSVFolder(dir string, opts ...CSVOption) (*CSVFolder, error) {
	cfg, err := newCSVConfig(opts)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, errors.Wrap(err, "dataset")
	}
	tg, err := folderTargets(dir, entries, cfg)
	if err != nil {
		return nil, err
	}
	format, err := learnFormat(dir, tg.files[0], cfg.header)
	if err != nil {
		return nil, err
	}
	f := &CSVFolder{
		dir:        dir,
		files:      tg.files,
		labels:     tg.labels,
		responses:  tg.responses,
		classNames: tg.classNames,
		format:     format,
		schema:     Schema{NumFeatures: format.features, NumClasses: len(tg.classNames), ResponseSize: tg.responseSize},
		readAhead:  cfg.readAhead,
		readers:    cfg.readers,
		cache:      make(map[int]*cachedSeq),
	}
	f.wake.L = &f.mu
	return f, nil
}

// folderTargets returns the sequence files of the folder dir, whose
// entries are given, and their targets: those of the targets file, each
// file checked to be in dir, or for an Unlabeled set without a targets
// file every .csv file of dir.
func folderTargets(dir string, entries []os.DirEntry, cfg csvConfig) (*csvTargets, error) {
	tpath := cfg.targets
	if !filepath.IsAbs(tpath) {
		tpath = filepath.Join(dir, tpath)
	}
	tf, err := os.Open(tpath)
	switch {
	case err == nil:
		tg, err := parseCSVTargets(tf, cfg.task, cfg.targetsHeader, cfg.classNames)
		tf.Close()
		if err != nil {
			return nil, errors.Wrapf(err, "dataset: %s", tpath)
		}
		return tg, checkListed(dir, tpath, entries, tg, cfg.targetsHeader)
	case errors.Is(err, fs.ErrNotExist) && cfg.task == Unlabeled && !cfg.targetsSet:
		tg := &csvTargets{}
		for _, e := range entries {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
				tg.files = append(tg.files, e.Name())
			}
		}
		if len(tg.files) == 0 {
			return nil, errors.Errorf("dataset: %s: no .csv files", dir)
		}
		return tg, nil
	}
	return nil, errors.Wrap(err, "dataset: targets file")
}

// checkListed checks that every file the targets file at tpath lists is a
// file among the entries of dir.
func checkListed(dir, tpath string, entries []os.DirEntry, tg *csvTargets, targetsHeader bool) error {
	isDir := make(map[string]bool, len(entries))
	for _, e := range entries {
		isDir[e.Name()] = e.IsDir()
	}
	for k, name := range tg.files {
		d, ok := isDir[name]
		switch {
		case !ok:
			hint := ""
			if tg.lines[k] == 1 && !targetsHeader {
				hint = " (if line 1 is a header, use WithTargetsHeader(true))"
			}
			return errors.Errorf("dataset: %s: line %d: file %q is not in %s%s", tpath, tg.lines[k], name, dir, hint)
		case d:
			return errors.Errorf("dataset: %s: line %d: %q is a directory, want a file", tpath, tg.lines[k], name)
		}
	}
	return nil
}

// learnFormat reads the header, as header says, and first row of the
// sequence file first in dir, and returns how every file is to be read.
// One row is enough to learn the columns; the rest of the file is read
// when its observation is.
func learnFormat(dir, first string, header headerMode) (seqFormat, error) {
	firstPath := filepath.Join(dir, first)
	ff, err := os.Open(firstPath)
	if err != nil {
		return seqFormat{}, errors.Wrap(err, "dataset")
	}
	defer ff.Close()
	seq, names, err := parseCSVSequence(ff, seqFormat{header: header}, 1)
	if err != nil {
		return seqFormat{}, errors.Wrapf(err, "dataset: file %s", firstPath)
	}
	format := seqFormat{header: headerNone, features: seq.F, ref: first}
	if names != nil {
		format.header, format.names = headerPresent, names
	}
	return format, nil
}

// Len returns the number of observations.
func (f *CSVFolder) Len() int { return len(f.files) }

// Schema returns the shape of the observations.
func (f *CSVFolder) Schema() Schema { return f.schema }

// ClassNames returns the label of each class, in class order, or nil if the
// set is not for classification.
func (f *CSVFolder) ClassNames() []string { return slices.Clone(f.classNames) }

// FeatureNames returns the column names of the header of the sequence files,
// or nil if they have no header.
func (f *CSVFolder) FeatureNames() []string { return slices.Clone(f.format.names) }

// FileName returns the name, within the folder, of the file of observation
// i, for reporting results by file. It panics if i is out of range.
func (f *CSVFolder) FileName(i int) string { return f.files[i] }

// Observation reads the sequence of observation i, or takes it from the
// read-ahead cache, and returns it with its target. The caller owns the
// result.
func (f *CSVFolder) Observation(i int) (Observation, error) {
	if i < 0 || i >= len(f.files) {
		return Observation{}, errors.Errorf("dataset: observation %d out of range [0, %d)", i, len(f.files))
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return Observation{}, errors.Errorf("dataset: %s: observation %d read after Close", f.dir, i)
	}
	// An entry leaves the cache as soon as it is taken, even while still
	// being read, so that no two callers share its data.
	e := f.cache[i]
	var help *cachedSeq
	var hi int
	if e != nil {
		delete(f.cache, i)
		f.hits++
		if !e.done {
			// Rather than wait idle for a reader, read the next queued
			// observation meanwhile, so that reading ahead is never slower
			// than reading here.
			hi, help = f.claim()
		}
	} else {
		// Reading it here makes a queued read ahead of it wasted work.
		f.queue = slices.DeleteFunc(f.queue, func(j int) bool { return j == i })
	}
	f.served++
	f.wake.Signal()
	f.mu.Unlock()

	var seq Sequence
	var err error
	if e != nil {
		if help != nil {
			f.fill(hi, help)
		}
		<-e.ready
		seq, err = e.seq, e.err
	} else {
		seq, err = f.read(i)
	}
	if err != nil {
		return Observation{}, err
	}
	o := Observation{Seq: seq, Label: -1}
	if f.labels != nil {
		o.Label = f.labels[i]
	}
	if r := f.schema.ResponseSize; r > 0 {
		o.Response = slices.Clone(f.responses[i*r : (i+1)*r])
	}
	return o, nil
}

// Prefetch starts reading the observations at indices in the background,
// in that order, as far as the read-ahead cache has room. Indices out of
// range are ignored, as is everything after Close or with a read-ahead of 0.
func (f *CSVFolder) Prefetch(indices []int) {
	if f.readAhead == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	for _, i := range indices {
		if i < 0 || i >= len(f.files) {
			continue
		}
		if e := f.cache[i]; e != nil {
			e.stamp = f.served
			continue
		}
		f.queue = append(f.queue, i)
	}
	// Hints older than two cache-fulls are dropped, oldest first: the
	// consumer has most likely moved past them and read them itself.
	if over := len(f.queue) - 2*f.readAhead; over > 0 {
		f.queue = f.queue[:copy(f.queue, f.queue[over:])]
	}
	if !f.started {
		f.started = true
		f.running.Add(f.readers)
		for range f.readers {
			go f.readAheadLoop()
		}
	}
	f.wake.Broadcast()
}

// Close stops reading ahead, waiting for a file being read to finish, and
// empties the cache. Observation fails afterwards. Close always returns nil.
func (f *CSVFolder) Close() error {
	f.mu.Lock()
	f.closed = true
	f.queue = nil
	f.wake.Broadcast()
	f.mu.Unlock()
	f.running.Wait()
	f.mu.Lock()
	clear(f.cache)
	f.mu.Unlock()
	return nil
}

// readAheadLoop reads queued observations into the cache until Close. Each
// read-ahead goroutine runs one.
func (f *CSVFolder) readAheadLoop() {
	defer f.running.Done()
	f.mu.Lock()
	for !f.closed {
		i, e := f.claim()
		if e == nil {
			f.wake.Wait()
			continue
		}
		f.mu.Unlock()
		f.fill(i, e)
		f.mu.Lock()
	}
	f.mu.Unlock()
}

// claim takes the next queued observation and adds an entry for it to the
// cache, if there is room, for the caller to fill. It returns a nil entry if
// there is nothing to read or no room. f.mu must be held.
func (f *CSVFolder) claim() (int, *cachedSeq) {
	for len(f.queue) > 0 && f.cache[f.queue[0]] != nil {
		f.queue = f.queue[1:]
	}
	if len(f.queue) == 0 || !f.makeRoom() {
		return 0, nil
	}
	i := f.queue[0]
	f.queue = f.queue[1:]
	e := &cachedSeq{ready: make(chan struct{}), stamp: f.served}
	f.cache[i] = e
	return i, e
}

// fill reads observation i into its claimed entry e. f.mu must not be held.
func (f *CSVFolder) fill(i int, e *cachedSeq) {
	e.seq, e.err = f.read(i)
	close(e.ready)
	f.mu.Lock()
	e.done = true
	// A reader may be waiting for room that only a done entry can make.
	f.wake.Broadcast()
	f.mu.Unlock()
}

// makeRoom reports whether the cache has room for one more entry, evicting
// the stalest entry if the cache is full and some entry has waited while
// more than two cache-fulls of other observations were served: such an
// entry was prefetched for an epoch that was abandoned, or for a batch that
// did not come, and would otherwise hold its slot for ever.
//
// An entry still being read is never evicted: it holds the memory being
// read into.
func (f *CSVFolder) makeRoom() bool {
	if len(f.cache) < f.readAhead {
		return true
	}
	stale, oldest := -1, f.served
	for i, e := range f.cache {
		if e.done && f.served-e.stamp > uint64(2*f.readAhead) && e.stamp <= oldest {
			stale, oldest = i, e.stamp
		}
	}
	if stale < 0 {
		return false
	}
	delete(f.cache, stale)
	return true
}

// read reads the sequence of observation i from its file.
func (f *CSVFolder) read(i int) (Sequence, error) {
	path := filepath.Join(f.dir, f.files[i])
	fh, err := os.Open(path)
	if err != nil {
		return Sequence{}, errors.Wrap(err, "dataset")
	}
	defer fh.Close()
	seq, _, err := parseCSVSequence(fh, f.format, 0)
	if err != nil {
		return Sequence{}, errors.Wrapf(err, "dataset: file %s", path)
	}
	return seq, nil
}

// seqFormat says how to read a sequence file.
type seqFormat struct {
	header headerMode
	// features is the number of columns every row must have, or 0 to take
	// it from the header or first row.
	features int
	// names is the header every file must have, or nil to accept any.
	names []string
	// ref names the file that features and names come from, for messages.
	ref string
}

// parseCSVSequence reads a sequence file: one timestep per row, one feature
// per column. It returns the header, if the file has one, with its fields
// trimmed. If maxRows is positive it stops after that many timesteps.
// Errors say where, by line and column (1-based), but not which file: the
// caller knows.
func parseCSVSequence(r io.Reader, format seqFormat, maxRows int) (Sequence, []string, error) {
	cr := newCSVReader(r)
	cr.ReuseRecord = true
	var (
		header []string
		data   []float64
		t      int
		f      = format.features
		// why says where f comes from, for messages.
		why = fmt.Sprintf("as in %s", format.ref)
	)
	for rows := 0; ; rows++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Sequence{}, nil, err
		}
		line, _ := cr.FieldPos(0)
		if blankRecord(rec) {
			rows--
			continue
		}
		if rows == 0 && (format.header == headerPresent || format.header == headerAuto && !numericRecord(rec)) {
			header = make([]string, len(rec))
			for j, s := range rec {
				header[j] = strings.TrimSpace(s)
			}
			if err := checkHeader(header, format, line); err != nil {
				return Sequence{}, nil, err
			}
			if f == 0 {
				f, why = len(header), "as in the header"
			}
			continue
		}
		if f == 0 {
			f, why = len(rec), fmt.Sprintf("as on line %d", line)
		}
		if len(rec) != f {
			return Sequence{}, nil, errors.Errorf("line %d has %d values, want %d %s", line, len(rec), f, why)
		}
		for j, s := range rec {
			v, err := parseValue(s)
			if err != nil {
				l, _ := cr.FieldPos(j)
				return Sequence{}, nil, errors.Errorf("line %d, column %d: %v", l, j+1, err)
			}
			data = append(data, v)
		}
		t++
		if maxRows > 0 && t >= maxRows {
			break
		}
	}
	if t == 0 {
		if header != nil {
			return Sequence{}, nil, errors.New("empty sequence: a header but no rows")
		}
		return Sequence{}, nil, errors.New("empty sequence: no rows")
	}
	return Sequence{Data: data, T: t, F: f}, header, nil
}

// checkHeader checks a header against the one every file must have.
func checkHeader(header []string, format seqFormat, line int) error {
	if format.names == nil {
		if format.features > 0 && len(header) != format.features {
			return errors.Errorf("line %d: header has %d columns, want %d as in %s", line, len(header), format.features, format.ref)
		}
		return nil
	}
	if len(header) != len(format.names) {
		return errors.Errorf("line %d: header has %d columns, want %d as in %s", line, len(header), len(format.names), format.ref)
	}
	for j, name := range header {
		// A different header most likely means columns in another order,
		// which would silently mix up features.
		if name != format.names[j] {
			return errors.Errorf("line %d, column %d: header is %q, want %q as in %s", line, j+1, name, format.names[j], format.ref)
		}
	}
	return nil
}

// parseValue parses one value of a sequence or response. Its errors do not
// say where: the caller does.
func parseValue(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty value")
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && v != 0:
		return 0, errors.Errorf("%q is out of the range of float64", s)
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, errors.Errorf("%q is not a number", s)
	case !isFinite(v):
		return 0, errors.Errorf("value is %s, want a finite number", s)
	}
	// A value too small for float64 is rounded to 0, which is harmless.
	return v, nil
}

// numericRecord reports whether every non-empty field of rec parses as a
// number, so that a header is told from a row with a missing value.
func numericRecord(rec []string) bool {
	for _, s := range rec {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return false
		}
	}
	return true
}

// blankRecord reports whether rec comes from a line of nothing but space,
// which encoding/csv, unlike for an empty line, returns as a record.
func blankRecord(rec []string) bool {
	return len(rec) == 1 && strings.TrimSpace(rec[0]) == ""
}

// newCSVReader returns a reader of comma separated records of any length,
// ignoring space before a field and a UTF-8 byte order mark, which
// spreadsheet programs often write.
func newCSVReader(r io.Reader) *csv.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	return cr
}

// csvTargets is a parsed targets file.
type csvTargets struct {
	files []string
	// lines[k] is the line of files[k] in the targets file, for messages.
	lines        []int
	labels       []int // nil unless classification
	classNames   []string
	responses    []float64 // [len(files), responseSize], nil unless regression
	responseSize int
}

// parseCSVTargets reads a targets file for task, skipping a header line if
// header is set. With classNames non-nil, labels must be among them;
// otherwise the classes are the distinct labels, sorted as OpenCSVFolder
// describes. Errors say where, by line and column, but not which file.
func parseCSVTargets(r io.Reader, task Task, header bool, classNames []string) (*csvTargets, error) {
	cr := newCSVReader(r)
	tg := &csvTargets{}
	firstLine := make(map[string]int) // file name to the line it is first listed on
	var names []string                // label of each file, for classification
	respLine := 0                     // line that set responseSize
	for skip := header; ; {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if blankRecord(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if skip {
			skip = false
			continue
		}
		name := strings.TrimSpace(rec[0])
		switch {
		case name == "":
			return nil, errors.Errorf("line %d, column 1: empty file name", line)
		case name == "." || name == ".." || strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator):
			return nil, errors.Errorf("line %d, column 1: %q is not the name of a file in the folder", line, name)
		case hasControl(name):
			return nil, errors.Errorf("line %d, column 1: file name %q has a control character or byte order mark", line, name)
		}
		if l, ok := firstLine[name]; ok {
			return nil, errors.Errorf("line %d: file %q listed again, first on line %d", line, name, l)
		}
		firstLine[name] = line

		switch task {
		case Classification:
			if len(rec) != 2 {
				return nil, errors.Errorf("line %d has %d values, want 2: file name and label", line, len(rec))
			}
			label := strings.TrimSpace(rec[1])
			if label == "" {
				return nil, errors.Errorf("line %d, column 2: missing label of %q", line, name)
			}
			if hasControl(label) {
				return nil, errors.Errorf("line %d, column 2: label %q has a control character or byte order mark", line, label)
			}
			names = append(names, label)
		case Regression:
			if len(rec) < 2 {
				return nil, errors.Errorf("line %d has no responses, want file name then responses", line)
			}
			if tg.responseSize == 0 {
				tg.responseSize, respLine = len(rec)-1, line
			} else if len(rec)-1 != tg.responseSize {
				return nil, errors.Errorf("line %d has %d responses, want %d as on line %d", line, len(rec)-1, tg.responseSize, respLine)
			}
			for j, s := range rec[1:] {
				v, err := parseValue(s)
				if err != nil {
					l, _ := cr.FieldPos(j + 1)
					return nil, errors.Errorf("line %d, column %d: %v", l, j+2, err)
				}
				tg.responses = append(tg.responses, v)
			}
		}
		tg.files = append(tg.files, name)
		tg.lines = append(tg.lines, line)
	}
	if len(tg.files) == 0 {
		return nil, errors.New("no files listed")
	}
	if task == Classification {
		if err := tg.classify(names, classNames); err != nil {
			return nil, err
		}
	}
	return tg, nil
}

// hasControl reports whether s holds a control character, such as a line
// break or NUL, or a byte order mark. Names and labels with them are refused
// rather than kept: they are almost certainly an accident of quoting or
// encoding, and would not survive being written back to CSV and read again
// (encoding/csv turns \r\n in a quoted field into \n, and a byte order mark
// at the start of a file is taken for an encoding mark).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\ufeff' })
}

// classify numbers the labels of tg's files, given in names, by classNames
// if given or else by their sorted distinct values.
func (tg *csvTargets) classify(names, classNames []string) error {
	if classNames == nil {
		classNames = sortedLabels(names)
	}
	class := make(map[string]int, len(classNames))
	for k, name := range classNames {
		class[name] = k
	}
	tg.classNames = classNames
	tg.labels = make([]int, len(names))
	for k, name := range names {
		c, ok := class[name]
		if !ok {
			return errors.Errorf("line %d, column 2: unknown label %q, want one of the %d class names given", tg.lines[k], name, len(classNames))
		}
		tg.labels[k] = c
	}
	return nil
}

// sortedLabels returns the distinct labels in numerical order if all are
// integers and in lexical order otherwise.
func sortedLabels(labels []string) []string {
	distinct := slices.Clone(labels)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	nums := make(map[string]int64, len(distinct))
	for _, l := range distinct {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			return distinct
		}
		nums[l] = n
	}
	// Labels such as "1" and "01" have the same value; ties keep the
	// lexical order so that the result does not depend on the input order.
	slices.SortStableFunc(distinct, func(a, b string) int {
		switch na, nb := nums[a], nums[b]; {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	})
	return distinct
}
