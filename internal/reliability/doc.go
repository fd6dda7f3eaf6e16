// Package reliability holds the fault suite of docs/reliability.md: a
// backup and a restore driven through their steps as the state machines
// drive them, with the process "crashing" at random points — a store
// write, a file write, a HubSpot write, before or after it took effect —
// and the step run again from the input it was given, as Step Functions
// retries it. It has tests only. `make test` runs a few trials of each;
// `make reliability` runs many (RELIABILITY_TRIALS).
package reliability
