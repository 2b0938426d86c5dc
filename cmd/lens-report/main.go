package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

// command is one subcommand: its flags, its one-line summary, the rest of
// its help, and what it does with its arguments.
type command struct {
	name    string
	args    string // the synopsis after the flags
	summary string
	detail  string
	flags   func(fs *flag.FlagSet) func(args []string) error

	// subcommands marks a command whose first argument is a subcommand
	// with flags of its own: its arguments are passed on as they are.
	subcommands bool
}

// commands lists the subcommands in help order.
var commands = []*command{runCmd, sweepCmd, fakeCmd, showCmd, junitCmd, compareCmd, mergeCmd, htmlCmd, historyCmd}

// exitError asks main to exit with a status other than 1, after printing
// its message (if any).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// errUsage marks a usage error: main prints the command's help and exits 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(lensReport(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// lensReport runs the command line args and returns the exit status.
func lensReport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The live dashboard's alerts reach stderr from their own goroutine,
	// beside the run's messages: one lock keeps their lines whole.
	stderr = &lockedWriter{w: stderr}
	std := stdio{in: stdin, out: stdout, err: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" && len(args) == 1 {
		fmt.Fprint(stdout, usage())
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "help" {
		args = []string{args[1], "-help"}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet("lens-report "+c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		run := c.flags(fs)
		// The help is printed here, once: to stdout when asked for, to
		// stderr after a usage error (the flag package's own call of Usage
		// on -help would print it a second time).
		fs.Usage = func() {}
		var rest []string
		var err error
		if c.subcommands && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			// A subcommand parses its own flags.
			rest = args[1:]
		} else {
			rest, err = parseInterspersed(fs, args[1:])
		}
		fs.Usage = func() { fmt.Fprint(fs.Output(), commandHelp(c, fs)) }
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stdout)
				fs.Usage()
				return 0
			}
			fs.Usage()
			return 2
		}
		current = std
		err = run(rest)
		var ee *exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errUsage):
			fs.Usage()
			return 2
		case errors.As(err, &ee):
			if ee.msg != "" {
				fmt.Fprintf(stderr, "lens-report %s: %s\n", c.name, ee.msg)
			}
			return ee.code
		default:
			fmt.Fprintf(stderr, "lens-report %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "lens-report: unknown command %q\n\n%s", args[0], usage())
	return 2
}

// parseInterspersed parses fs's flags wherever they stand among args
// ("show out.json -format csv" as "show -format csv out.json") and returns
// the other arguments in order. "--" ends the flags: what follows is taken
// as it is.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		// Parse stops at the first argument that is not a flag, or just
		// after a "--", which it consumes.
		if i := len(args) - len(left); i > 0 && args[i-1] == "--" {
			return append(rest, left...), nil
		}
		if len(left) == 0 {
			return rest, nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// stdio is the process's standard streams, replaceable in tests.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// lockedWriter serializes the writes of several goroutines to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// current holds the streams of the command being run.
var current stdio

// usage is the top-level help.
func usage() string {
	var b strings.Builder
	b.WriteString("lens-report runs LLM latency benchmarks and reports on their results.\n\nUsage:\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\tlens-report %-8s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'lens-report <command> -help' for a command's flags.\n")
	b.WriteString(`
Exit status: 0 on success; 1 when the command did its work and found a
broken gate or a regression, or could not read or write a file, or could
not merge or compare what it was given; 2 for a usage error (an unknown
command, flag or flag value, a missing argument or file, an invalid
configuration, a run or history file that does not exist); 3 when run could
not complete the run or write its outputs; 130 when run was interrupted.
Each command's help says which apply to it.
`)
	return b.String()
}

// commandHelp is one command's help: synopsis, description and flags.
func commandHelp(c *command, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", strings.TrimSpace("usage: lens-report "+c.name+" [flags] "+c.args), c.summary)
	if c.detail != "" {
		b.WriteString("\n" + c.detail + "\n")
	}
	var flags strings.Builder
	out := fs.Output()
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(out)
	if flags.Len() > 0 {
		b.WriteString("\nFlags:\n")
		b.WriteString(flags.String())
	}
	return b.String()
}

// choice is the value of a flag that takes one of a fixed set of words:
// any other is refused when the flags are parsed, before the command does
// anything, as a usage error.
type choice struct {
	value, def string
	valid      []string
}

func (c *choice) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choice) Set(s string) error {
	if !slices.Contains(c.valid, s) && s != c.def {
		return fmt.Errorf("want %s", orList(c.valid))
	}
	c.value = s
	return nil
}

// choiceFlag defines a flag whose value is one of valid, or def, its
// default, and returns where its value is kept.
func choiceFlag(fs *flag.FlagSet, name, def, usage string, valid ...string) *string {
	c := &choice{value: def, def: def, valid: valid}
	fs.Var(c, name, usage)
	return &c.value
}

// colorFlag defines the -color flag: auto, on or off.
func colorFlag(fs *flag.FlagSet, usage string) *string {
	return choiceFlag(fs, "color", "auto", usage, "auto", "on", "off")
}

// orList writes words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
