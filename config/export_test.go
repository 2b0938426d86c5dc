package config

// SeedMatrix is seedMatrix, for the package's external tests.
var SeedMatrix = seedMatrix
