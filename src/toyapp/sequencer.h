/* sequencer.h — the Merkle log's single sequencer (sequencer.c). */
#ifndef TOYAPP_SEQUENCER_H
#define TOYAPP_SEQUENCER_H

void *sequencer_main(void *arg);

/* Tells this instance's sequencer that a batch has committed (the writer,
 * after each commit), so that it need not wait for its next poll: the live
 * feed shows an entry soon after its commit.  Never blocks. */
void sequencer_poke(void);

#endif
