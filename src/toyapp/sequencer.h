/* sequencer.h — the Merkle log's single sequencer (sequencer.c). */
#ifndef TOYAPP_SEQUENCER_H
#define TOYAPP_SEQUENCER_H

void *sequencer_main(void *arg);

#endif
