package smki

// Violations returns, for the tests, every *ProfileError inside err, in order.
func Violations(err error) []*ProfileError {
	var out []*ProfileError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *ProfileError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}
