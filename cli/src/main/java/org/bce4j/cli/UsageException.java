package org.bce4j.cli;

/** Bad input on the command line or in a file it names: reported as one line on stderr with exit code 2. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
