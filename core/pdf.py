"""Printable PDFs (fpdf2) shared by the modules' reports."""
from pathlib import Path

# a Unicode TrueType font where Debian puts it (package fonts-dejavu-core); without it, fpdf2's Latin-1 core font
FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf")


def pdf_font(pdf, family="ReportSans"):
    """Register a Unicode font on ``pdf``: ``(family, clean)`` where ``clean(text)`` makes text printable with it
    (with the core font, characters outside Latin-1 are replaced so that a name never breaks a report)."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            pdf.add_font(family, "", candidate)
            bold = candidate.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
            pdf.add_font(family, "B", bold if Path(bold).exists() else candidate)
            return family, str
    return "Helvetica", lambda text: str(text).encode("latin-1", "replace").decode("latin-1")
