// Command duban-ferretdb runs FerretDB (a MongoDB wire-protocol server) on its SQLite backend.
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
	dataDir := flag.String("data-dir", "./data", "folder for the SQLite databases")
	flag.Parse()

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		log.Fatalf("cannot create data dir: %v", err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dataDir + "/",
	})
	if err != nil {
		log.Fatalf("cannot configure FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("duban-ferretdb listening on %s, data in %s", *listen, *dataDir)
	f.Run(ctx)
}
