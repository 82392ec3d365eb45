//go:build race

package fuzz

// raceEnabled skips allocation guards: the race detector allocates.
const raceEnabled = true
