// Package fuzz holds the suites that guard jetrpc's core against hostile
// input and pooled-memory bugs: native fuzz targets over the public API
// (their seed corpora run in every `go test`; `make fuzz FUZZTIME=30s` runs
// each target in turn), a concurrency stress test, a catalogue of hostile
// inputs through the HTTP server, and a soak (`make soak`).
package fuzz
