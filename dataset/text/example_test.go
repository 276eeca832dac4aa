package text_test

import (
	"fmt"

	"github.com/seqgraph/seqgraph/dataset/text"
)

func ExampleTokenize() {
	fmt.Printf("%q\n", text.Tokenize("Loud rattling and banging sounds are coming from assembler pistons."))
	fmt.Printf("%q\n", text.Tokenizer{KeepPunctuation: true}.Tokenize("Don't stop, it's 3.5 bar!"))
	// Output:
	// ["loud" "rattling" "and" "banging" "sounds" "are" "coming" "from" "assembler" "pistons"]
	// ["don't" "stop" "," "it's" "3" "." "5" "bar" "!"]
}

func ExampleVocabulary_Classification() {
	train := text.TokenizeAll([]string{
		"Coolant is pooling underneath sorter.",
		"Sorter blows fuses at start up.",
		"There are some very loud rattling sounds coming from the assembler.",
		"Coolant is leaking from the sorter.",
	})
	labels := []int{0, 1, 2, 0} // leak, electronic, mechanical
	vocab, err := text.NewVocabulary(train, text.WithMaxWords(5))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := vocab.Classification(train, labels, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("words:", vocab.Words(), "size:", vocab.Size())
	fmt.Println("document 3:", set.Sequence(3).Data)
	test := text.Tokenize("The sorter is leaking coolant.")
	fmt.Println("new document:", vocab.Encode(test))
	// Output:
	// words: [sorter coolant from is the] size: 7
	// document 3: [3 5 1 4 6 2]
	// new document: [6 2 5 1 3]
}
