package custody

// conduct is the frame a ceremony runs in: the transcript and every
// other output checked absent, with their directories present, before the
// first step; the transcript opened; the steps; and how they ended (the
// refusal, or done and what comes next) written to it.
func conduct(c Ceremony, src Source, env Env, transcript string, outputs []string, steps func(*Transcript) (next string, err error)) error {
	files := append([]string{transcript}, outputs...)
	if err := CheckAbsent(files...); err != nil {
		return err
	}
	if err := checkParents(files...); err != nil {
		return err
	}
	t, err := OpenTranscript(transcript, env.Out, env.Now, src, c)
	if err != nil {
		return err
	}
	next, err := steps(t)
	if err != nil {
		t.Fail(err)
	} else {
		t.Logf("done: %s", next)
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	return err
}
