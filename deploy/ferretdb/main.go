// Command duban-ferretdb runs FerretDB (a MongoDB wire-protocol server) on PostgreSQL or SQLite.
//
// It embeds FerretDB through its public package instead of `go install`ing cmd/ferretdb,
// whose release-generated build/version/version.txt is missing from the module and makes it panic.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "host:port to listen on")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL backend, e.g. postgres://127.0.0.1:5432/ferretdb (the default engine)")
	dataDir := flag.String("data-dir", "", "folder for the SQLite backend's databases (the fallback engine)")
	flag.Parse()

	config := ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}}
	switch {
	case *postgresURL != "" && *dataDir != "":
		log.Fatal("give either --postgresql-url or --data-dir, not both")
	case *postgresURL != "":
		config.Handler = "postgresql"
		config.PostgreSQLURL = *postgresURL
	case *dataDir != "":
		if err := os.MkdirAll(*dataDir, 0o755); err != nil {
			log.Fatalf("cannot create data dir: %v", err)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + *dataDir + "/"
	default:
		log.Fatal("give --postgresql-url (PostgreSQL backend) or --data-dir (SQLite backend)")
	}

	f, err := ferretdb.New(&config)
	if err != nil {
		log.Fatalf("cannot configure FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("duban-ferretdb (%s backend) listening on %s", config.Handler, *listen)
	f.Run(ctx)
}
