// Package text turns documents into sequences of word indices for
// recurrent networks, as MATLAB's tokenizedDocument, wordEncoding and
// doc2sequence do.
//
// # Tokens
//
// Tokenize splits a document into words: it lower-cases the text and cuts it
// at space and punctuation, which it drops, keeping apostrophes inside
// words ("don't"). On ASCII text whose apostrophes are all inside words this is
// the rule of Keras's Tokenizer. A Tokenizer with
// KeepCase or KeepPunctuation keeps either, punctuation then becoming
// tokens of its own, as in MATLAB's tokenizedDocument before
// erasePunctuation.
//
// # Vocabulary
//
// NewVocabulary numbers the words of a set of training documents, most
// frequent first, ties in lexical order, optionally keeping only the most
// frequent (WithMaxWords, MATLAB's MaxNumWords) or those seen often enough
// (WithMinCount). Its indices follow one convention, which an embedding
// layer relies on:
//
//	0        padding, never a word
//	1        the unknown word: any word not in the vocabulary
//	2, 3, …  the words, most frequent first
//
// Size counts all of them, padding and unknown included, so that an
// embedding of Size rows accepts every index, as PyTorch's
// nn.Embedding(Size, D, padding_idx=0).
//
// # Sequences
//
// A document becomes a dataset.Sequence of one feature per timestep, the
// index of its word as a float64, MATLAB's doc2sequence output fed to
// sequenceInputLayer(1) and a word embedding layer. Classification builds a
// labelled set from documents and labels in one call. A document without
// tokens cannot be a sequence (a sequence needs a timestep): it is an
// error that names the document, and DropEmpty removes such documents,
// with their labels, beforehand.
package text
