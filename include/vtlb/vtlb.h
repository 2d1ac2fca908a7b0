/*
 * vtlb: checks a hypervisor's guest-TLB management on a simulated machine.
 * Umbrella header and version.
 */
#ifndef VTLB_VTLB_H
#define VTLB_VTLB_H

#define VTLB_VERSION "0.1.0"

#include "vtlb/bits.h"
#include "vtlb/fixes.h"
#include "vtlb/model.h"
#include "vtlb/ops.h"
#include "vtlb/run.h"
#include "vtlb/scenario.h"
#include "vtlb/state.h"
#include "vtlb/step.h"
#include "vtlb/trace.h"

#endif
