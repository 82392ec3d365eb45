// Command peers runs the comparison of jetrpc with other Go JSON-RPC
// libraries (`make peers`):
//
//	peers serve -server NAME -case CASE [-addr A]  serve one library for one case until SIGINT
//	peers body -server NAME -case CASE             print the case's request in that library's dialect
//	peers loopback [flags]                         serve each library in turn, pinned, and load it with jetrpc bench
//	peers persistent [flags]                       the same over WebSocket and TCP streams, pipelined (flags as loopback's)
//	peers table [flags] < bench.txt                the in-process benchmarks (go test -bench output) as a table
//
// Tables are markdown on stdout; with -readme FILE they also replace the
// text between <!-- peers:NAME --> and <!-- /peers:NAME --> in FILE.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/jetrpc/jetrpc/bench/peers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: peers serve|body|loopback|persistent|table [flags]; peers CMD -h for its flags
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var err error
	switch args[0] {
	case "serve", "body":
		server := fs.String("server", "jetrpc", "the library (see peers.Servers)")
		c := fs.String("case", string(peers.Ping), "the case: ping, add, echo_1KiB, batch_10_adds")
		addr := fs.String("addr", "127.0.0.1:18383", "where to listen (serve)")
		transport := fs.String("transport", "", "serve: ws or tcp for a persistent server (see peers.PersistentServers); HTTP when empty")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		if *transport != "" && args[0] == "serve" {
			err = servePersistent(ctx, *server, *transport, *addr)
			break
		}
		s, ok := peers.Lookup(*server)
		if !ok {
			fmt.Fprintf(stderr, "peers: no server %q\n", *server)
			return 2
		}
		if args[0] == "body" {
			body := s.Body(peers.Case(*c))
			if body == nil {
				fmt.Fprintf(stderr, "peers: %s does not serve %s\n", s.Name, *c)
				return 1
			}
			_, err = stdout.Write(body)
			break
		}
		err = serve(ctx, s, peers.Case(*c), *addr)
	case "loopback", "persistent":
		var l loopback
		fs.StringVar(&l.jetrpc, "jetrpc", "jetrpc", "the jetrpc binary whose bench subcommand loads the servers")
		fs.StringVar(&l.addr, "addr", "127.0.0.1:18383", "where the servers listen (loopback only)")
		fs.DurationVar(&l.duration, "duration", 5e9, "measured time of each run")
		fs.DurationVar(&l.warmup, "warmup", 1e9, "warm-up before each run")
		rounds := 2 // persistent: each round is long already
		if args[0] == "loopback" {
			rounds = 3 // the issues' targets are medians of 3 rounds
		}
		fs.IntVar(&l.rounds, "rounds", rounds, "rounds; each serves every library in turn")
		fs.IntVar(&l.conns, "c", 64, "connections of the load generator")
		fs.StringVar(&l.serverCPU, "server-cpu", "0", "taskset CPU list of the server (GOMAXPROCS=1)")
		fs.StringVar(&l.loadCPU, "load-cpu", "1", "taskset CPU list of the load generator (GOMAXPROCS=1)")
		readme := fs.String("readme", "", "also write the table into this file between its peers:loopback (peers:persistent) markers")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		var table string
		if args[0] == "persistent" {
			if table, err = l.persistent(ctx, stderr); err == nil {
				fmt.Fprint(stdout, table)
				err = splice(*readme, "persistent", table)
			}
			break
		}
		if table, err = l.run(ctx, stderr); err == nil {
			fmt.Fprint(stdout, table)
			err = splice(*readme, "loopback", table)
		}
	case "table":
		readme := fs.String("readme", "", "also write the table into this file between its peers:inprocess markers")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		var table string
		if table, err = inProcessTable(stdin); err == nil {
			fmt.Fprint(stdout, table)
			err = splice(*readme, "inprocess", table)
		}
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "peers: %v\n", err)
		return 1
	}
	return 0
}

// serve serves s for case c on addr until ctx is done.
func serve(ctx context.Context, s peers.Server, c peers.Case, addr string) error {
	if s.Body(c) == nil {
		return fmt.Errorf("%s does not serve %s", s.Name, c)
	}
	if s.Stream {
		return errors.New(s.Name + " has no HTTP: it is measured in process only")
	}
	return serveUntil(ctx, addr, func(ln net.Listener) (func(), error) { return s.Start(ln, c) })
}

// serveUntil listens on addr, starts a server there with start and stops
// it when ctx is done.
func serveUntil(ctx context.Context, addr string, start func(net.Listener) (stop func(), err error)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	stop, err := start(ln)
	if err != nil {
		ln.Close()
		return err
	}
	<-ctx.Done()
	stop()
	return nil
}
