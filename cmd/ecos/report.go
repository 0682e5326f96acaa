package main

// The report commands: one line each, so that adding one is one line.
func reportCommand() *command {
	return &command{name: "report", summary: "the service's reports, and traffic to try them on", subs: []*command{
		{name: "mpid", summary: "the monthly MPID usage report: the deck's daily table, headline figures, parties sending none", run: runReportMPID},
		{name: "generate", summary: "record a realistic month of 6.23 traffic, for demos and benchmarks", run: runReportGenerate},
	}}
}
