/* The tiny compiled hook: reads its request to the end and answers like EndpointOperInfo. */
#include <string.h>
#include <unistd.h>

int main(void) {
    char buf[65536];
    while (read(0, buf, sizeof buf) > 0) {}
    const char *answer = "{\"Value\":{}}\n";
    return write(1, answer, strlen(answer)) < 0;
}
