"""The paper analyzer.

- :mod:`.models`: the results (analysis, answer, review, batch, dry-run estimate, claims);
- :mod:`.schema`: what the model is asked to return;
- :mod:`.pdf` (the parent side) and :mod:`.worker` (the isolated reader process): PDF loading;
- :mod:`.text` (the :class:`Paper` document), :mod:`.clean` (text repair) and
  :mod:`.headings` (sections and references);
- :mod:`.request`: what every request about a paper shares, and the citation check;
- :mod:`.chunks`, :mod:`.analyze` (map → reduce for long papers), :mod:`.chat`,
  :mod:`.review`, :mod:`.batch`;
- :mod:`.render`: markdown and plain text.
"""
