// Command ferretdb-local runs FerretDB 1.24 embedded in a tiny binary of ours, on the
// PostgreSQL backend (the local default, scripts/db.sh) or the SQLite one.
// `go install .../cmd/ferretdb` refuses to start when built from the module proxy (it
// wants a generated version.txt), the embeddable package does not.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on (keep it on loopback: no auth)")
	handler := flag.String("handler", "sqlite", "backend: postgresql or sqlite")
	pgURL := flag.String("postgresql-url", "", "pgx URL of the PostgreSQL database (handler postgresql), "+
		"e.g. postgres://postgres@/ferretdb?host=%2Fpath%2Fto%2Fsocket-dir")
	dataDir := flag.String("data-dir", ".data/ferretdb", "directory holding the SQLite files (handler sqlite)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	conf := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}
	where := *pgURL
	switch *handler {
	case "postgresql":
		if *pgURL == "" {
			log.Fatal("-handler postgresql needs -postgresql-url")
		}
		conf.PostgreSQLURL = *pgURL
	case "sqlite":
		abs, err := filepath.Abs(*dataDir)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			log.Fatal(err)
		}
		conf.SQLiteURL = "file:" + abs + "/"
		where = abs
	default:
		log.Fatalf("unknown -handler %q: postgresql or sqlite", *handler)
	}

	f, err := ferretdb.New(conf)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("ferretdb listening", "addr", *listen, "handler", *handler, "data", where)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
