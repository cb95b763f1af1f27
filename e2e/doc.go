// Package e2e tests the built sekisho binary as its users run it: a child
// process against the simulators of Glue, TROCCO, Airflow and Slack served
// on loopback by the test process. The harness starts, SIGKILLs, reloads and
// restarts the daemon, then reads its SQLite file (WAL lets a reader in
// while it runs) and the simulators' own records to check the promises
// that only hold across crashes: one DAG run per attempt, no TROCCO
// workflow job posted twice, every transition kept, every notice sent once.
package e2e
