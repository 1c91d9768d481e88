// Command hotline runs the 12345 government service hotline platform.
package main

import (
	"os"

	"github.com/hotline12345/hotline/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
