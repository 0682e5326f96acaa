// Package repotest holds tests about the repository as a whole: every
// package says what it is, and codec packages stay free of service code.
package repotest
