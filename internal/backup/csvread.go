package backup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// CSVReader reads the CSV a backup holds (RFC 4180, as appendCSVField
// writes it). Unlike encoding/csv it keeps every byte of a quoted field:
// encoding/csv drops the CR of a CR LF inside a value, and a restore must
// write back exactly what HubSpot held.
type CSVReader struct {
	r      *bufio.Reader
	buf    []byte
	ends   []int
	fields []string
	// FieldsPerRecord, when positive, is the number of fields every record
	// must have.
	FieldsPerRecord int
	records         int64
}

// NewCSVReader reads records from r.
func NewCSVReader(r io.Reader) *CSVReader {
	return &CSVReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// ErrCSV is a malformed backup CSV.
var ErrCSV = errors.New("malformed CSV")

// Read returns the next record, or io.EOF after the last. The slice is
// reused by the next call; the strings are not.
func (c *CSVReader) Read() ([]string, error) {
	c.buf, c.ends = c.buf[:0], c.ends[:0]
	b, err := c.r.ReadByte()
	if err != nil {
		return nil, err // io.EOF: no more records
	}
	c.records++
	for {
		if b == '"' {
			if b, err = c.quoted(); err != nil {
				return nil, err
			}
		} else {
			for b != ',' && b != '\r' && b != '\n' {
				c.buf = append(c.buf, b)
				if b, err = c.r.ReadByte(); err == io.EOF {
					b, err = '\n', nil
				} else if err != nil {
					return nil, err
				}
			}
		}
		c.ends = append(c.ends, len(c.buf))
		if b == ',' {
			if b, err = c.r.ReadByte(); err == io.EOF {
				b, err = '\n', nil // a trailing empty field
			} else if err != nil {
				return nil, err
			}
			continue
		}
		if b == '\r' {
			if next, err := c.r.ReadByte(); err == nil && next != '\n' {
				return nil, fmt.Errorf("%w: record %d: CR without LF", ErrCSV, c.records)
			} else if err != nil && err != io.EOF {
				return nil, err
			}
		}
		break
	}
	if c.FieldsPerRecord > 0 && len(c.ends) != c.FieldsPerRecord {
		return nil, fmt.Errorf("%w: record %d has %d fields, want %d", ErrCSV, c.records, len(c.ends), c.FieldsPerRecord)
	}
	all := string(c.buf)
	c.fields = c.fields[:0]
	start := 0
	for _, end := range c.ends {
		c.fields = append(c.fields, all[start:end])
		start = end
	}
	return c.fields, nil
}

// quoted reads a quoted field's text after its opening quote and returns
// the byte after the closing quote.
func (c *CSVReader) quoted() (byte, error) {
	for {
		b, err := c.r.ReadByte()
		if err == io.EOF {
			return 0, fmt.Errorf("%w: record %d: unterminated quoted field", ErrCSV, c.records)
		}
		if err != nil {
			return 0, err
		}
		if b != '"' {
			c.buf = append(c.buf, b)
			continue
		}
		b, err = c.r.ReadByte()
		switch {
		case err == io.EOF:
			return '\n', nil
		case err != nil:
			return 0, err
		case b == '"':
			c.buf = append(c.buf, '"')
		case b == ',' || b == '\r' || b == '\n':
			return b, nil
		default:
			return 0, fmt.Errorf("%w: record %d: %q after a closing quote", ErrCSV, c.records, b)
		}
	}
}
