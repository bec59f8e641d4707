// The OWL API's OWL 2 DL profile check of one ontology document, for tests/test_owl.py.
//
// Usage: java -cp <owlapi and its dependency jars>:<dir of DLProfile.class> DLProfile FILE
// Prints one line per finding, tab-separated, then a summary line; nothing else goes to stdout:
//   violation <TAB> <kind> <TAB> <text>   a violation of the OWL 2 DL profile (OWL2DLProfile)
//   unparsed <TAB> <triple>                a triple the parser could not read as OWL and dropped silently
//   summary <TAB> violations=N <TAB> unparsed=M <TAB> axioms=A <TAB> individuals=I
// Exit status: 0 when there is no violation and no unparsed triple, 1 when there is one, 2 when the file
// cannot be loaded at all. Unparsed triples count because the OWL API drops them without a word: that is how
// the 30 rdf:Statement component relations once vanished from every OWL tool while the profile check passed.

import java.io.File;
import java.util.List;
import java.util.stream.Collectors;

import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.OWLOntologyLoaderMetaData;
import org.semanticweb.owlapi.io.RDFTriple;
import org.semanticweb.owlapi.model.OWLDocumentFormat;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyCreationException;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public final class DLProfile {
    private DLProfile() {}

    // One line per finding: tabs and line breaks inside a message would split it.
    private static String oneLine(Object value) {
        return String.valueOf(value).replaceAll("\\s+", " ").trim();
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: DLProfile FILE (an RDF/XML, Turtle or OWL document)");
            System.exit(2);
        }
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology ontology;
        try {
            ontology = manager.loadOntologyFromOntologyDocument(new File(args[0]));
        } catch (OWLOntologyCreationException error) {
            System.err.println("cannot load " + args[0] + ": " + oneLine(error.getMessage()));
            System.exit(2);
            return;
        }
        OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
        List<OWLProfileViolation> violations = report.getViolations();
        for (OWLProfileViolation violation : violations) {
            System.out.println("violation\t" + violation.getClass().getSimpleName() + "\t" + oneLine(violation));
        }
        OWLDocumentFormat format = manager.getOntologyFormat(ontology);
        List<RDFTriple> unparsed = format == null
            ? List.of()
            : format.getOntologyLoaderMetaData()
                .map(OWLOntologyLoaderMetaData::getUnparsedTriples)
                .map(triples -> triples.collect(Collectors.toList()))
                .orElse(List.of());
        for (RDFTriple triple : unparsed) {
            System.out.println("unparsed\t" + oneLine(triple));
        }
        System.out.println("summary\tviolations=" + violations.size() + "\tunparsed=" + unparsed.size()
            + "\taxioms=" + ontology.getAxiomCount()
            + "\tindividuals=" + ontology.getIndividualsInSignature().size());
        System.exit(violations.isEmpty() && unparsed.isEmpty() ? 0 : 1);
    }
}
