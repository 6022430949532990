// Empty on purpose: SwiftPM needs one source file; everything lives in include/CLinux.h.
#include "CLinux.h"
