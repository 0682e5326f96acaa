// Package deadcode holds a repository test: production code is code
// production uses. Every package-level function in the packages ecos is
// built from must be called from production code, not only from tests.
package deadcode
