/*
 * front.h: the Pareto front of a sweep with several objectives, as text
 * (sweepctl best and status).
 */
#ifndef SWEEPD_CLIENT_FRONT_H
#define SWEEPD_CLIENT_FRONT_H

#include <stdio.h>

#include <cJSON.h>

/*
 * "Pareto front: N trials (val_acc max, lr min)" and one line per member,
 * "  #7  val_acc 0.8912  lr 0.0031", from front (the "front" array of a
 * best or sweep reply, borrowed) and spec (an object whose "objectives"
 * names them: the stored spec, or best's reply; NULL: "objective 1", ...). Nothing when front is
 * NULL (one objective). Returns 0 or -1 on a write error.
 */
int show_front(FILE *out, const cJSON *front, const cJSON *spec);

#endif
