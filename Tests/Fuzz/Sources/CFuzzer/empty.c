// CFuzzer is a header only; SwiftPM wants one source file in a C target.
