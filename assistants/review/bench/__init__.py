"""The reviewer's benchmark: a corpus of real code with seeded bugs and clean changes
(:mod:`.corpus`), reviewed through the real diff review and scored (:mod:`.run`), with its
result types (:mod:`.models`) and their rendering (:mod:`.render`)."""
